"""``/person?id=``: one person by Keycloak id, account id or email: names, ids, links, history.

An operator also gets the forms here: remove a pairing, or pair by hand (the same
``set_link``/``remove_link`` the CLI's ``offboard links`` calls), cut the person off now or
lift such a cut-off (``offboard cutoff``'s service functions).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from urllib.parse import quote

from offboard.core.history import JournalQuery
from offboard.core.links import Link
from offboard.ports import Store
from offboard.server.console.acts import MAX_FIELD, OVERRIDE_FIELD
from offboard.server.console.backend import ConsoleBackend
from offboard.server.console.items import moment
from offboard.server.console.layout import attr, esc, hidden, page, table
from offboard.server.console.names import Name
from offboard.server.console_user import CSRF_FIELD, ConsoleUser
from offboard.service.links_admin import list_links, state_of

SHOWN_RECORDS = 20


async def render(wanted: str, backend: ConsoleBackend, user: ConsoleUser | None, csrf: str) -> str:
    """The person page; an unknown person is a page that says so, never an error."""
    wanted = wanted.strip()[:MAX_FIELD]
    acting = user is not None and user.can_act
    if backend.sides is None or not wanted:
        return page("Person", "<p class='muted'>Nobody asked for, or no store wired.</p>", user)
    store = backend.sides.store
    links = await asyncio.to_thread(_links, store, wanted)
    ids: list[str] = [link.identity_id for link in links] or ([wanted] if "@" not in wanted else [])
    book = backend.name_book()
    names = await book.names(ids) if book is not None else {}
    records = []
    if backend.search is not None:
        query = JournalQuery(person=wanted, limit=SHOWN_RECORDS)
        records = await asyncio.to_thread(backend.search, query)
    parts = [f"<p>Looked up: <code>{esc(wanted)}</code></p>"]
    for identity_id in ids:
        found = names.get(identity_id)
        shown = f"{found.name} <{found.email or ''}>" if found else "(not read from Keycloak)"
        parts.append(f"<p data-testid='person'>{esc(shown)} — Keycloak id "
                     f"<code>{esc(identity_id)}</code></p>")  # fmt: skip
    parts += ["<h2>Links</h2>", _links_table(links, acting, csrf)]
    if acting:
        parts += ["<h2>Pair by hand</h2>", _set_form(ids[0] if ids else "", csrf)]
        who = _who(wanted, ids, names, links)
        parts += ["<h2>Cut off now</h2>", _cutoff_form(wanted, who, csrf)]
        if any(link.cut_off_by_hand for link in links):
            parts += ["<h2>Lift the cut-off</h2>", _lift_form(wanted, csrf)]
    rows = [(moment(r.at), r.kind, r.phase.value, r.status.value,
             r.rule, r.detail or r.reason) for r in records]  # fmt: skip
    parts += [
        "<h2>Latest history</h2>",
        table(("At", "Action", "Step", "Outcome", "Rule", "Why"), rows,
              row_testid="history-row", empty="Nothing journaled."),
        f"<p><a href='/history?person={esc(_quoted(wanted))}'>All history</a></p>",
    ]  # fmt: skip
    return page("Person", "".join(parts), user, forms=acting)


def _links(store: Store, wanted: str) -> list[Link]:
    """The links of a Keycloak id or email, else of an account id."""
    return list_links(store, person=wanted) or list_links(store, account=wanted)


def _links_table(links: Sequence[Link], acting: bool, csrf: str) -> str:
    rows = []
    for link in links:
        linked = moment(link.linked_at)
        values = (link.email or "", link.identity_id, link.account_id, state_of(link).value, linked)
        cells = [esc(value) for value in values]
        if acting:
            cells.append(_remove_form(link, csrf))
        rows.append(cells)
    headers = ["Email", "Keycloak id", "Atlassian account", "State", "Linked"]
    if acting:
        headers.append("Unpair")
    return table(headers, rows, row_testid="link", raw=True, empty="No link.")


def _remove_form(link: Link, csrf: str) -> str:
    return (
        "<form method='post' action='/act/link-remove' data-testid='remove-link'>"
        f"{hidden(CSRF_FIELD, csrf)}{hidden('identity_id', link.identity_id)}"
        f"{hidden('account_id', link.account_id)}"
        "<label>Reason <textarea name='reason' rows='2' required></textarea></label>"
        "<button type='submit'>Remove link</button></form>"
    )


def _set_form(identity_id: str, csrf: str) -> str:
    return (
        "<form method='post' action='/act/link-set' data-testid='set-link'>"
        f"{hidden(CSRF_FIELD, csrf)}"
        "<label>Keycloak id <input type='text' name='identity_id' required "
        f"value='{attr(identity_id)}'></label>"
        "<label>Atlassian account id <input type='text' name='account_id' required></label>"
        "<label>Reason <textarea name='reason' rows='2' required></textarea></label>"
        "<button type='submit'>Set link</button></form>"
    )


def _who(wanted: str, ids: Sequence[str], names: Mapping[str, Name], links: Sequence[Link]) -> str:
    """The person as the operator recognises them, for the box that confirms a cut-off: the
    page is mostly opened by Keycloak id (the "details" links), which says nothing."""
    found = names.get(ids[0]) if ids else None
    email = (found.email if found else None) or next((k.email for k in links if k.email), None)
    shown = " ".join(p for p in (found.name if found else "", f"<{email}>" if email else "") if p)
    return f"{shown} ({wanted})" if shown and wanted not in shown else shown or wanted


def _cutoff_form(person: str, who: str, csrf: str) -> str:
    return (
        "<form method='post' action='/act/cutoff' data-testid='cutoff'>"
        f"{hidden(CSRF_FIELD, csrf)}{hidden('person', person)}"
        "<p class='muted'>Deprovisions their account now, whatever Keycloak says; "
        "protections and guards still hold, and only a lift gives it back.</p>"
        "<label>Reason <textarea name='reason' rows='2' required></textarea></label>"
        "<label><input type='checkbox' name='confirm' value='yes' required> "
        f"Cut off {esc(who)}</label>{_override_field()}"
        "<button type='submit'>Cut off now</button></form>"
    )


def _lift_form(person: str, csrf: str) -> str:
    return (
        "<form method='post' action='/act/cutoff-lift' data-testid='cutoff-lift'>"
        f"{hidden(CSRF_FIELD, csrf)}{hidden('person', person)}"
        "<label>Reason <textarea name='reason' rows='2' required></textarea></label>"
        f"{_override_field()}<button type='submit'>Give the access back</button></form>"
    )


def _override_field() -> str:
    """Guards to lift for this one act, for when a first try was blocked by one."""
    return (
        "<details><summary>Blocked by a guard?</summary>"
        "<p class='muted'>Only when the act was refused by a guard you have checked: the "
        "override is journaled with your name and reason.</p>"
        "<label>Guards to lift for this act (comma-separated) "
        f"<input type='text' name='{OVERRIDE_FIELD}' placeholder='deprovisioning-budget'>"
        "</label></details>"
    )


def _quoted(text: str) -> str:
    return quote(text, safe="")
