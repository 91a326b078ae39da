"""``/``: what needs a human first, then the daemon's own state; ``/status.json`` its twin.

An operator sees a form beside each item they can act on (release a hold, decide an
ambiguous identity, retry a failed action); a viewer sees the same items without forms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from offboard.server.console.attention import gather
from offboard.server.console.backend import ConsoleBackend
from offboard.server.console.items import Attention, Person, moment
from offboard.server.console.layout import esc, hidden, page, person, table
from offboard.server.console_user import CSRF_FIELD, ConsoleUser
from offboard.service.status import DaemonStatus


async def current(
    status: DaemonStatus,
    limits: Mapping[str, timedelta],
    backend: ConsoleBackend,
    user: ConsoleUser | None = None,
    csrf: str = "",
) -> str:
    """The attention page as it is now (what ``/`` answers)."""
    items = await gather(status, limits, backend)
    return render(status, items, status.not_ready_reasons(limits), user, csrf)


def render(
    status: DaemonStatus,
    items: Sequence[Attention],
    not_ready: Sequence[str],
    user: ConsoleUser | None,
    csrf: str,
    notice: str = "",
) -> str:
    """The whole attention page."""
    acting = user is not None and user.can_act
    parts = [f"<p class='bad' data-testid='notice'>{esc(notice)}</p>" if notice else "",
             _summary(status, not_ready), "<h2>Needs attention</h2>"]  # fmt: skip
    if not items:
        parts.append("<p class='ok' data-testid='all-clear'>Nothing needs you.</p>")
    parts += [_item(item, acting, csrf) for item in items]
    parts += [
        "<h2>Budget</h2>", _budget(status),
        "<h2>Deprovisioning latency</h2>", _latency(status),
        "<h2>Recent reconciliations (this process)</h2>", _passes(status),
        "<h2>Recent actions of this process's passes</h2>", _actions(status),
    ]  # fmt: skip
    return page("Needs attention", "".join(parts), user, forms=acting)


def _summary(status: DaemonStatus, not_ready: Sequence[str]) -> str:
    role = "leader" if status.leader else "standby"
    ready = ("<span class='ok'>ready</span>" if not not_ready else
             "<span class='bad'>not ready: " + esc("; ".join(not_ready)) + "</span>")  # fmt: skip
    lag = "n/a" if status.last_event_lag is None else f"{status.last_event_lag:.1f} s"
    return (f"<p>Role: <b>{role}</b>. {ready}. Started {esc(moment(status.started_at))}. "
            f"Event lag: {esc(lag)}.</p>")  # fmt: skip


def _item(item: Attention, acting: bool, csrf: str) -> str:
    warn = "" if item.kind in ("hold", "blocked-person", "failed-action", "store") else " warn"
    testid = "hold" if item.kind == "hold" else "attention"
    parts = [
        f"<section class='item{warn}' data-testid='{testid}' data-kind='{esc(item.kind)}'>",
        f"<h3>{esc(item.title)}</h3>",
        f"<p>{esc(item.detail)}</p>" if item.detail else "",
        f"<p><b>What to do:</b> {esc(item.todo)}</p>" if item.todo else "",
        _people(item.people),
        _more(item),
    ]
    if acting:
        parts.append(_form(item, csrf))
    parts.append("</section>")
    return "".join(parts)


def _people(people: Sequence[Person]) -> str:
    if not people:
        return ""
    rows = [(person(p.name, p.email, p.identity_id, p.account_id),) for p in people]
    return table(("Who",), rows, row_testid="waiting", raw=True)


def _more(item: Attention) -> str:
    if not item.more:
        return ""
    return (f"<p class='muted' data-testid='more'>and {item.more} more: "
            f"<code>{esc(item.more_where)}</code> lists them all.</p>")  # fmt: skip


def _form(item: Attention, csrf: str) -> str:
    if item.kind == "hold" and item.hold is not None:
        fields = hidden("hold_id", str(item.hold.id)) + hidden("category", item.hold.category)
        return _act_form("/act/release-hold", "release-hold", fields, "Release hold", csrf)
    if item.kind == "blocked-person" and item.rule == "ambiguous-identities":
        fields = hidden("email", item.extra.get("email", "")) + (
            "<label>Keycloak id of the person who owns the account "
            "<input type='text' name='identity_id' required></label>"
        )
        return _act_form("/act/resolve", "resolve-identity", fields, "Decide", csrf)
    if item.kind == "blocked-plan" and item.extra.get("fingerprint"):
        fields = hidden("fingerprint", item.extra["fingerprint"]) + hidden(
            "guards", item.extra.get("guards", "")
        )
        return _act_form("/act/override", "approve-override", fields, "Approve override", csrf)
    if item.kind == "failed-action" and item.extra.get("action_key"):
        fields = hidden("action_key", item.extra["action_key"])
        return _act_form("/act/retry", "retry-action", fields, "Retry", csrf)
    return ""


def _act_form(action: str, testid: str, fields: str, button: str, csrf: str) -> str:
    return (
        f"<form method='post' action='{esc(action)}' data-testid='{esc(testid)}'>"
        f"{hidden(CSRF_FIELD, csrf)}{fields}"
        "<label>Reason (journaled) <textarea name='reason' rows='2' required></textarea></label>"
        f"<button type='submit'>{esc(button)}</button></form>"
    )


def _budget(status: DaemonStatus) -> str:
    state = status.guards
    if state is None:
        return "<p class='muted'>Not read from the store yet.</p>"
    rows = [(u.name, str(u.used), str(u.left), str(u.limit)) for u in state.usage]
    return table(("Window", "Used", "Left", "Limit"), rows)


def _latency(status: DaemonStatus) -> str:
    summary = status.latency()
    if not summary.count:
        return "<p class='muted'>No deprovisioning confirmed by this process yet.</p>"
    figures = (summary.p50, summary.p95, summary.max)
    cells = [f"{value:.2f} s" if value is not None else "n/a" for value in figures]
    return table(("Samples", "p50", "p95", "max"), [(str(summary.count), *cells)])


def _passes(status: DaemonStatus) -> str:
    rows = [
        (p.kind, moment(p.started_at), f"{p.duration:.2f} s",
         "complete" if p.complete else "incomplete", ", ".join(p.blocked_guards) or "-",
         str(len(p.actions)), "; ".join(p.problems))
        for p in status.passes
    ]  # fmt: skip
    headers = ("Kind", "Started", "Took", "Result", "Blocked by", "Actions", "Problems")
    return table(headers, rows, empty="No reconciliation by this process yet; see History.")


def _actions(status: DaemonStatus) -> str:
    rows = [
        (moment(a.at), a.kind, a.email or a.identity_id or "", a.account_id or "",
         a.outcome, a.detail)
        for a in list(status.actions)[:20]
    ]  # fmt: skip
    headers = ("At", "Kind", "Who", "Account", "Outcome", "Detail")
    # Operators' acts (console, command line, handed requests) and other replicas' passes
    # are in the journal only: said here, so that their absence is not taken for "none".
    where = ("<p class='muted' data-testid='actions-scope'>Reconciliations and re-checks of "
             "this process only; every act, by anyone, is in <a href='/history'>History</a>."
             "</p>")  # fmt: skip
    return where + table(headers, rows, empty="None by this process yet.")


def status_document(
    status: DaemonStatus, items: Sequence[Attention], not_ready: Sequence[str]
) -> dict[str, object]:
    """``/status.json``: the role, readiness and the attention list, for other tools."""
    guards = status.guards
    return {
        "role": "leader" if status.leader else "standby",
        "ready": not not_ready,
        "not_ready_reasons": list(not_ready),
        "started_at": status.started_at.isoformat(),
        "event_lag_seconds": status.last_event_lag,
        "needs_attention": len(items) > 0,
        "attention": [item.document() for item in items],
        "budget": [
            {"window": u.name, "used": u.used, "left": u.left, "limit": u.limit}
            for u in (guards.usage if guards else ())
        ],
        "blocked_plans": len(status.blocked),
    }
