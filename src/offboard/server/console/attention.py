"""What needs a human, first: gathered from the daemon's status and the store.

Each :class:`Attention` says what is wrong, who it concerns and what to do. The list is
empty only when truly nothing waits: no hold, no blocked plan or person, no failed action
left unfixed, no orphan seat, no credential close to expiry, no stale event cursor, and
this replica ready (a standby that cannot reach the store is not).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import timedelta

from offboard.core.plan import Entry
from offboard.server.console.backend import ConsoleBackend
from offboard.server.console.blocked import LatestPlan
from offboard.server.console.health import failed_actions, orphans, replica
from offboard.server.console.items import Attention, Person, moment
from offboard.service.status import DaemonStatus

SHOWN = 50
"""At most this many blocked people and failed actions are listed (with a count of the rest)."""


async def gather(
    status: DaemonStatus, limits: Mapping[str, timedelta], backend: ConsoleBackend
) -> list[Attention]:
    """Everything that needs a human now, most urgent first, people named."""
    read = await asyncio.to_thread(_refresh, status)
    latest = await asyncio.to_thread(_latest_plan, status, backend)
    blocked = latest.blocked if latest is not None else ()
    items = [*_holds(status), *_blocked_plans(status, latest), *_blocked_people(blocked)]
    items += await asyncio.to_thread(failed_actions, backend)
    health = replica(status, limits)
    if not read and not any(item.kind == "store" for item in health):
        items.append(UNREAD)  # before readiness notices (a lease ttl), never a green page
    items += health
    items += await asyncio.to_thread(orphans, backend)
    return await _named(items, backend)


UNREAD = Attention(
    "store",
    "The store could not be read just now",
    "holds, blocked plans and failed actions may be missing from this page",
    "Check the database and the network to it; this page reloads itself.",
)


def _refresh(status: DaemonStatus) -> bool:
    """Read the hold and budget; False when the store did not answer."""
    try:
        status.refresh_guards()
    except Exception:  # the store unreadable: an attention item, never a 500
        status.guards = None
        return False
    return True


def _holds(status: DaemonStatus) -> list[Attention]:
    state = status.guards
    if state is None:
        return []
    found = []
    for hold in ([state.hold] if state.hold else []) + list(state.other_holds):
        people = tuple(Person(w.identity_id, w.account_id, w.email) for w in hold.waiting[:SHOWN])
        deprovisioning = hold.category == "deprovisioning"
        found.append(
            Attention(
                "hold",
                f"Hold #{hold.id} on {hold.category}: {len(hold.waiting)} waiting",
                f"{hold.message} (put by {', '.join(hold.guards)} at {moment(hold.since)})",
                "Check that these people really left, then release the hold with a reason "
                + ("(or `offboard hold release --reason ...`); they are re-planned from fresh "
                   "reads." if deprovisioning else f"(or `offboard hold release --category "
                   f"{hold.category} --reason ...`); the next provisioning pass lets their "
                   "actions through."),
                people,
                hold,
                more=len(hold.waiting) - len(people),
                more_where="offboard hold show"
                + ("" if deprovisioning else f" --category {hold.category}"),
            )
        )  # fmt: skip
    if state.source_anomaly:
        found.append(Attention("source-anomaly", "Re-checks paused: a source anomaly",
                               state.source_anomaly,
                               "Look at Keycloak; a full reconciliation that passes its "
                               "guards clears it."))  # fmt: skip
    return found


def _blocked_plans(status: DaemonStatus, latest: LatestPlan | None) -> list[Attention]:
    found = []
    if latest is not None and latest.guards and _still_blocked(status):
        names = ", ".join(name for name, _ in latest.guards)
        memory = status.blocked.get("full")
        everyone = sorted(memory.waiting) if memory is not None else []
        waiting = everyone[:SHOWN]
        found.append(
            Attention(
                "blocked-plan",
                f"The last full plan is blocked ({names})",
                " | ".join(message for _, message in latest.guards),
                "Check the numbers. If they are right, approve the override for this plan "
                "(it is planned again from fresh reads and must be the same), or "
                f"`offboard apply --override-guard {latest.guards[0][0]}`.",
                tuple(Person(i, None, None) for i in waiting),
                extra={"fingerprint": latest.fingerprint, "guards": ",".join(
                    name for name, _ in latest.guards)},
                more=len(everyone) - len(waiting),
                more_where="offboard plan",
            )
        )  # fmt: skip
    return found + [
        Attention(
            "blocked-plan",
            f"Plan blocked ({', '.join(b.guards)}), scope {b.scope}",
            " | ".join(b.messages),
            "Release the hold it put, or run `offboard apply --override-guard NAME` once "
            "the numbers are understood.",
            tuple(Person(i, None, None) for i in sorted(b.waiting)[:SHOWN]),
            more=max(len(b.waiting) - SHOWN, 0),
            more_where="offboard plan",
        )
        for b in status.blocked.values()
        if not (found and b.scope == "full")  # the stored plan above is the same one
    ]


def _still_blocked(status: DaemonStatus) -> bool:
    """Whether the last full plan still waits for a human. The daemon's own view decides
    once it made a full pass: it drops a block whose people were all carried out since, or
    whose hold a human released. Before that (a restart, a command-line apply) the store's
    plan is all there is."""
    return status.last_full is None or "full" in status.blocked


_BLOCKED_TODO = {
    "ambiguous-identities": "Several Keycloak users claim this email: decide which one owns "
    "the account (Decide below, or `offboard links resolve`).",
    "ambiguous-accounts": "Several Atlassian accounts have this email: pair the right one by "
    "hand (`offboard links set`).",
    "account-linked-elsewhere": "The account is paired with someone else: check the pairing "
    "(`offboard links`).",
    "linked-account-missing": "The paired account is gone from Atlassian: remove the link or "
    "pair the new account.",
    "not-manageable": "Atlassian refused to manage this account (outside the organisation's "
    "reach): act in Atlassian's admin.",
}


def _latest_plan(status: DaemonStatus, backend: ConsoleBackend) -> LatestPlan | None:
    try:
        return backend.blocked_reader().latest(status)
    except Exception:  # the store unreadable: shown by the readiness items, never a 500
        return None


def _blocked_people(blocked: Sequence[Entry]) -> list[Attention]:
    found = [
        Attention(
            "blocked-person",
            f"Blocked: {entry.rule.value}",
            entry.reason,
            _BLOCKED_TODO.get(entry.rule.value, "Look at this person; offboard will not guess."),
            (Person(entry.identity_id, entry.account_id, entry.email),),
            rule=entry.rule.value,
            extra={"email": entry.email or ""},
        )
        for entry in blocked[:SHOWN]
    ]
    if len(blocked) > SHOWN:
        found.append(Attention("blocked-person", f"and {len(blocked) - SHOWN} more blocked",
                               todo="`offboard plan` lists them all."))  # fmt: skip
    return found


async def _named(items: list[Attention], backend: ConsoleBackend) -> list[Attention]:
    """The same items with each person's name from Keycloak, where it can be read."""
    book = backend.name_book()
    if book is None:
        return items
    names = await book.names(p.identity_id for item in items for p in item.people)
    named = []
    for item in items:
        people = []
        for p in item.people:
            found = names.get(p.identity_id or "")
            people.append(Person(p.identity_id, p.account_id, p.email or (found.email if found
                                 else None), found.name if found else ""))  # fmt: skip
        named.append(_with_people(item, tuple(people)))
    return named


def _with_people(item: Attention, people: tuple[Person, ...]) -> Attention:
    return Attention(item.kind, item.title, item.detail, item.todo, people, item.hold,
                     item.rule, item.seq, item.extra, item.more, item.more_where)  # fmt: skip
