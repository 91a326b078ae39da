"""The console's page shell: one stylesheet, escaping helpers, tables that become cards.

Everything shown is escaped here or by the caller with :func:`esc`: names, emails and
reasons are data whoever wrote them. No external asset is loaded. At 1280 px tables are
tables; below 700 px each row becomes a card whose cells carry their column name
(``data-label``), so every column (the "why" too) wraps on a 390 px phone, nothing off screen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from urllib.parse import quote

from offboard.core.printable import visible
from offboard.server.console_user import ConsoleUser

REFRESH_SECONDS = 15

STYLE = (
    "*{box-sizing:border-box}"
    "body{font-family:system-ui,sans-serif;margin:0 auto;padding:1em;color:#222;"
    "max-width:80em;line-height:1.4}"
    "nav a{margin-right:1em}"
    "table{border-collapse:collapse;margin-bottom:1.5em;width:100%}"
    "td,th{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top;"
    "overflow-wrap:anywhere}"
    ".bad{color:#a00}.ok{color:#070}.muted{color:#666}"
    ".item{border-left:4px solid #a00;padding:.4em .8em;margin:0 0 1em;background:#fdf6f6}"
    ".item.warn{border-color:#c80;background:#fffaf0}"
    "form{margin:.5em 0}textarea,input[type=text]{width:100%;max-width:40em;font:inherit}"
    "form label{display:block;margin:.3em 0}"  # each field under its own label
    "form label>textarea,form label>input[type=text]{display:block}"
    "button{font:inherit;padding:.3em 1em}"
    "@media (max-width:700px){"
    "table,tbody,tr,td{display:block;width:100%}"
    "tr.head{display:none}"
    "tr{border:1px solid #ccc;margin-bottom:.6em}"
    "td{border:none;border-bottom:1px solid #eee}"
    "td::before{content:attr(data-label);display:block;font-weight:bold;color:#555}"
    "}"
)

_RELOAD_UNLESS_TYPING = (
    "setInterval(function(){var typing=document.activeElement&&"
    "/^(TEXTAREA|INPUT|SELECT)$/.test(document.activeElement.tagName);"
    "var filled=Array.prototype.some.call(document.querySelectorAll('textarea'),"
    "function(t){return t.value.trim()!==''});"
    f"if(!typing&&!filled){{location.reload()}}}},{REFRESH_SECONDS * 1000});"
)
"""On a page with forms: refresh like the others, never while someone fills one in."""


def esc(text: object) -> str:
    """Text to show: HTML-escaped, and every invisible character (a bidi override, a
    zero-width joiner, a terminal escape) shown as its escape, as the command line shows it:
    a right-to-left override in a name must not make one person's email read as another's.
    Line breaks and tabs stay (a reason typed on several lines)."""
    return escape(visible(str(text)), quote=True)


def attr(value: str) -> str:
    """A form field's value, posted back as it is: HTML-escaped only."""
    return escape(value, quote=True)


def page(
    title: str,
    body: str,
    user: ConsoleUser | None,
    *,
    refresh: bool = True,
    forms: bool = False,
) -> str:
    """A whole page; ``refresh`` reloads it every 15 s (by script when it has ``forms``)."""
    reload = ""
    if refresh and not forms:
        reload = f"<meta http-equiv='refresh' content='{REFRESH_SECONDS}'>"
    script = f"<script>{_RELOAD_UNLESS_TYPING}</script>" if refresh and forms else ""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"{reload}<title>offboard: {esc(title)}</title><style>{STYLE}</style></head><body>"
        f"{_nav(user)}<h1>{esc(title)}</h1>{body}{script}</body></html>"
    )


def _nav(user: ConsoleUser | None) -> str:
    links = (
        "<nav><a href='/'>Needs attention</a><a href='/history'>History</a>"
        "<a href='/licences'>Licences</a><a href='/status.json'>status.json</a></nav>"
    )
    if user is None:
        who = "<p class='muted' data-testid='who'>Read-only view.</p>"
    else:
        role = "operator" if user.can_act else "viewer"
        who = (
            f"<p class='muted' data-testid='who'>{esc(user.name or user.username)} "
            f"({esc(role)}) <a href='/auth/logout' data-testid='logout'>Log out</a></p>"
        )
    return links + who


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    row_testid: str = "",
    empty: str = "none",
    raw: bool = False,
) -> str:
    """A table whose cells are escaped (``raw``: already HTML) and labelled for the cards."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    marker = f" data-testid='{esc(row_testid)}'" if row_testid else ""
    body = "".join(
        f"<tr{marker}>"
        + "".join(
            f"<td data-label='{esc(h)}'>{cell if raw else esc(cell)}</td>"
            for h, cell in zip(headers, row, strict=False)
        )
        + "</tr>"
        for row in rows
    )
    if not body:
        return f"<p class='muted'>{esc(empty)}</p>"
    return f"<table><tr class='head'>{head}</tr>{body}</table>"


def person(
    name: str | None, email: str | None, identity_id: str | None, account: str | None
) -> str:
    """A person as HTML: name and email, the ids on hover (and in the detail link)."""
    ids = []
    if identity_id:
        ids.append(f"Keycloak id {identity_id}")
    if account:
        ids.append(f"Atlassian account {account}")
    shown = " ".join(p for p in (name or "", f"<{email}>" if email else "") if p)
    shown = shown or identity_id or account or "(unknown)"
    text = f"<span title='{esc('; '.join(ids))}'>{esc(shown)}</span>"
    if identity_id or account:
        query = esc(quote(identity_id or account or "", safe=""))
        whose = esc(f"details of {shown}")  # the link's name out of context (screen readers)
        text += f" <a class='muted' aria-label='{whose}' href='/person?id={query}'>details</a>"
    return text


def hidden(name: str, value: str) -> str:
    return f"<input type='hidden' name='{esc(name)}' value='{attr(value)}'>"
