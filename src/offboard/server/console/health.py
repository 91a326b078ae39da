"""Attention items about health: failed actions, this replica, orphan seats.

Read from the journal, the daemon's status and the latest licence check; every store read
is guarded so that an unreadable store is shown (as this replica not reaching it), never a
500.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from offboard.core.history import MAX_PAGE, JournalQuery
from offboard.core.journal import JournalRecord
from offboard.server.console.backend import ConsoleBackend, JournalSearch
from offboard.server.console.items import Attention, Person, moment
from offboard.service.status import DaemonStatus

SHOWN = 50
SCANNED = 5_000
"""Failed records read at most per page view (each page of them is one bounded query)."""
FAILED_SINCE = timedelta(days=7)
_DONE = frozenset({"verified", "succeeded", "skipped"})
"""A later outcome that settles a failure (``skipped``: a retry found it not needed)."""


def failed_actions(backend: ConsoleBackend) -> list[Attention]:
    """Failed or mismatched outcomes of the last week that no later success settled."""
    if backend.search is None or backend.sides is None:
        return []
    since = backend.sides.clock.now() - FAILED_SINCE
    try:
        failed = [r for status in ("failed", "mismatch")
                  for r in _latest_failures(backend.search, status, since)]  # fmt: skip
    except Exception:  # the store unreadable: shown by the readiness items, never a 500
        return []
    found: list[Attention] = []
    seen: set[str] = set()
    for record in sorted(failed, key=lambda r: r.seq or 0, reverse=True):
        if record.action_key in seen or _settled_later(backend, record.identity_id, record.seq):
            continue
        seen.add(record.action_key)
        found.append(
            Attention(
                "failed-action",
                f"{record.kind} {record.status.value}",
                record.detail,
                "Retry it once the cause is fixed (re-planned from fresh reads), or look at "
                "`offboard journal list`.",
                (Person(record.identity_id, record.account_id, record.email),),
                rule=record.rule,
                seq=record.seq,
                extra={"action_key": record.action_key},
            )
        )
    return found


def _latest_failures(search: JournalSearch, status: str, since: datetime) -> list[JournalRecord]:
    """The newest failed outcome of up to :data:`SHOWN` actions since ``since``, paging past
    the repeats of one action that fails at every pass (at most :data:`SCANNED` records), so
    that it cannot push the others off the page."""
    latest: dict[str, JournalRecord] = {}
    query, scanned = JournalQuery(status=status, limit=MAX_PAGE), 0
    while scanned < SCANNED and len(latest) < SHOWN:
        batch = search(query)
        scanned += len(batch)
        for record in batch:
            if record.at >= since and record.phase.value in ("outcome", "readback"):
                latest.setdefault(record.action_key, record)
        if len(batch) < query.limit or batch[-1].seq is None or batch[-1].at < since:
            break
        query = query.following(batch[-1].seq)
    return list(latest.values())[:SHOWN]


def _settled_later(backend: ConsoleBackend, identity_id: str | None, seq: int | None) -> bool:
    if not identity_id or seq is None or backend.search is None:
        return False
    later = backend.search(JournalQuery(person=identity_id, phase="outcome", limit=5))
    return any((r.seq or 0) > seq and r.status.value in _DONE for r in later)


def replica(status: DaemonStatus, limits: Mapping[str, timedelta]) -> list[Attention]:
    found: list[Attention] = []
    for reason in status.not_ready_reasons(limits):
        store = reason.startswith("the store")
        found.append(Attention(
            "store" if store else "not-ready",
            ("This replica cannot reach the store" if store else "Not ready: " + reason),
            reason,
            "Check the database and the network to it; a standby that cannot reach the store "
            "cannot take over." if store else "See /readyz and the daemon's log.",
        ))  # fmt: skip
    now = status.clock.now()
    vendor_limit = limits.get("vendor", timedelta(minutes=5))
    cursor_old = status.last_poll is None or now - status.last_poll > vendor_limit
    if status.leader and now - status.started_at > vendor_limit and cursor_old:
        last = moment(status.last_poll) if status.last_poll else "never"
        found.append(
            Attention(
                "event-cursor",
                "Keycloak events are not being read",
                f"last read of the event cursor: {last}",
                "Check Keycloak's admin events and the daemon's log; full reconciliations "
                "still run.",
            )
        )
    found += [
        Attention("warning", warning.split(":")[0], warning, "See the fix in the text.")
        for warning in status.warnings()
    ]
    return found


def orphans(backend: ConsoleBackend) -> list[Attention]:
    if backend.licences is None:
        return []
    try:
        history = backend.licences(1)
    except Exception:  # the store unreadable: shown by the readiness items, never a 500
        return []
    if not history:
        return []
    taken_at, figures = history[0]
    states = figures.get("accounts_by_state")
    count = states.get("orphan", 0) if isinstance(states, dict) else 0
    if not isinstance(count, int) or count <= 0:
        return []
    return [Attention("orphans", f"{count} Atlassian accounts nobody owns",
                      f"licence check of {moment(taken_at)}",
                      "See /licences, or `offboard report licences`, and decide who they "
                      "belong to.")]  # fmt: skip
