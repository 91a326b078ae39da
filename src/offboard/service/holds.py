"""The hold, as operators act on it: show it, release it. One implementation for every face.

The CLI (``offboard hold show`` / ``offboard hold release``) calls these functions today and a
console will call the same ones. Releasing is a human decision, journaled with who and why;
the daemon never calls :func:`release_hold`. On release the people who waited are re-planned
one by one from fresh reads by id (never replayed from the stale plan that was held) and acted
on under the rules and per-plan guards again, as approved: the budget windows that held them
do not hold them twice, and the windows start afresh for everyone else.

Provisioning has holds of its own, one per budget category (creates, updates, membership
removals): releasing one journals who and why and re-plans nothing by itself; the next
provisioning pass (daemon or ``provision apply``) plans from fresh reads, as provisioning
always does, and the actions that waited go through as approved.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from offboard.core.budget import BudgetCategory
from offboard.core.holds import DEPROVISIONING, SOURCE_ANOMALY_CURSOR, Hold, WindowUsage
from offboard.core.identities import IdentityId
from offboard.core.plan import GuardName
from offboard.core.policy import Policy
from offboard.executor.preflight import NO_PREFLIGHT, Preflight
from offboard.executor.records import note_record
from offboard.ports import AccountDirectory, Clock, IdentitySource, OffboardError, Store
from offboard.service.pipeline_snapshots import accept_unaccepted_count
from offboard.service.reconciling import RunReport, recheck_identity

log = structlog.get_logger(__name__)


class ReleaseRefusedError(OffboardError):
    """A release must say why: the reason is what the audit keeps."""


@dataclass(frozen=True, slots=True)
class GuardState:
    """What holds deprovisioning back now: the hold, the budget per window, a source anomaly."""

    hold: Hold | None
    usage: tuple[WindowUsage, ...]
    source_anomaly: str
    other_holds: tuple[Hold, ...] = ()
    """The active holds of the other categories (provisioning creates, updates, removals)."""


OTHER_CATEGORIES = tuple(c.value for c in BudgetCategory if c is not BudgetCategory.DEPROVISIONING)


def guard_state(store: Store, policy: Policy, clock: Clock) -> GuardState:
    """The holds and budget as the store has them now (every process sees the same)."""
    limits = policy.budget.limits(store.link_count())
    usage = store.budget_usage(DEPROVISIONING, limits, clock.now())
    anomaly = store.cursor(SOURCE_ANOMALY_CURSOR) or ""
    others = tuple(h for c in OTHER_CATEGORIES if (h := store.active_hold(c)) is not None)
    return GuardState(store.active_hold(DEPROVISIONING), tuple(usage), anomaly, others)


def release_category(
    store: Store,
    category: str,
    *,
    clock: Clock,
    by: str,
    reason: str,
    next_step: Callable[[Hold], str] | None = None,
) -> Hold:
    """Release the active hold of ``category`` (raises ``NoHoldError`` when none) and journal
    who and why, and what happens to those who waited (``next_step``). Nothing is re-planned
    here: for provisioning the next pass does it; for deprovisioning, ``release_hold``."""
    if not reason.strip():
        raise ReleaseRefusedError("say why the hold is released (--reason): the journal keeps it")
    hold = store.release_hold(category, by, reason.strip(), clock.now())
    run_id = store.start_run("release", clock.now())
    store.append(
        note_record(
            at=clock.now(),
            run_id=run_id,
            fingerprint="",
            key=f"hold-release:{hold.id}",
            detail=f"{category} hold #{hold.id} released by {by}: {reason.strip()} ("
            + (next_step or _at_next_pass)(hold)
            + ")",
            rule=category,
        )
    )
    log.warning("hold released", category=category, hold=hold.id, by=by)
    if GuardName.SOURCE_COUNT_DROP.value in hold.guards:
        accept_unaccepted_count(store)  # the human accepted the drop: it is the baseline now
    summary: dict[str, object] = {"hold": hold.id, "by": by, "category": category}
    store.finish_run(run_id, clock.now(), "released", summary)
    return hold


def _at_next_pass(hold: Hold) -> str:
    return f"{len(hold.waiting)} waiting go on at the next pass, re-planned from fresh reads"


@dataclass(frozen=True, slots=True)
class ReleaseReport:
    """The released hold and the re-check of each person who waited on it."""

    hold: Hold
    rechecks: tuple[tuple[IdentityId, RunReport | None, str], ...]
    """``(identity, run, problem)``: the run is None when the re-check itself failed."""


async def release_hold(
    *,
    store: Store,
    source: IdentitySource,
    directory: AccountDirectory,
    policy: Policy,
    clock: Clock,
    by: str,
    reason: str,
    concurrency: int = 4,
    preflight: Preflight | None = NO_PREFLIGHT,
) -> ReleaseReport:
    """Release the active hold (raises ``NoHoldError`` when none), journal who and why, then
    re-plan and apply each waiting person from a fresh read (``concurrency`` at a time),
    every write checked against ``preflight`` (the caller's leader lease).

    ``preflight=None``: the caller does not lead (a daemon does), so it only records the
    release; the leader's own passes re-plan those people from fresh reads, and approve
    them, since they waited on a released hold."""
    by_whom = " by the leading daemon at its next pass" if preflight is None else ""

    def next_step(hold: Hold) -> str:
        return f"{len(hold.people)} people waiting are re-planned from fresh reads{by_whom}"

    hold = release_category(
        store, DEPROVISIONING, clock=clock, by=by, reason=reason, next_step=next_step
    )
    if preflight is None:
        return ReleaseReport(hold, ())
    fenced = preflight
    limit = asyncio.Semaphore(max(1, concurrency))

    async def recheck(person: str) -> tuple[IdentityId, RunReport | None, str]:
        async with limit:
            try:
                report = await recheck_identity(
                    IdentityId(person),
                    source=source,
                    directory=directory,
                    store=store,
                    policy=policy,
                    clock=clock,
                    apply=True,
                    concurrency=concurrency,
                    approved=True,
                    preflight=fenced,
                )
            except OffboardError as error:
                return IdentityId(person), None, str(error)
            return IdentityId(person), report, ""

    rechecks = await asyncio.gather(*(recheck(person) for person in hold.people))
    return ReleaseReport(hold, tuple(rechecks))
