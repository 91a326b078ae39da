"""The one-shot run both the CLI and the daemon use: read, confirm, plan, save, apply.

``build_plan`` reads both sides at once, has Keycloak confirm what the planner must not guess
(disables and absences), plans with the stored links and the last full baseline, and records
the snapshot summaries. ``reconcile`` wraps that in a run (and applies when asked);
``recheck_identity`` does the same for one user from a fresh read by id.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from offboard.core.covering import accounts_needed
from offboard.core.holds import SOURCE_ANOMALY_CURSOR
from offboard.core.identities import IdentityId
from offboard.core.links import Link
from offboard.core.plan import GuardName, Plan
from offboard.core.plan_json import plan_summary, plan_to_json
from offboard.core.planning import PlanContext, candidates_to_confirm, plan
from offboard.core.policy import Policy
from offboard.core.snapshots import SnapshotKind, SourceSnapshot, TargetSnapshot
from offboard.executor import ApplyReport, Outcome, PlanBlockedError, apply_plan, recover
from offboard.executor.preflight import NO_PREFLIGHT, Preflight
from offboard.ports import AccountDirectory, Clock, IdentitySource, Progress, Store
from offboard.service.covering_reads import (
    WALK,
    CoveringDirectory,
    choose,
    read_covering,
    widened,
)
from offboard.service.endings import run_ending
from offboard.service.pipeline_snapshots import (
    previous_source_count,
    record_snapshots,
    record_source_health,
    targeted_accounts,
    targeted_source,
    targeted_target,
)

SideProgress = Callable[[str], Progress | None]
"""Gives the progress callback for one side (``keycloak`` or ``atlassian``), or None."""
Widen = Callable[[SourceSnapshot, TargetSnapshot], Awaitable[TargetSnapshot]]
"""Reads what the confirmed identities need beyond a covering Atlassian read."""
log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class PlanResult:
    """A plan and the snapshots it was made from."""

    plan: Plan
    source: SourceSnapshot
    target: TargetSnapshot
    atlassian_read: str = ""
    """Which Atlassian read a full run chose, and why (kept in the run's summary)."""


@dataclass(frozen=True, slots=True)
class RunReport:
    """What one run did; ``summary`` is what the store keeps with the run."""

    run_id: str
    kind: str
    started_at: datetime
    finished_at: datetime
    status: str
    """``planned``, ``blocked``, ``applied`` or ``incomplete`` (some action not done).

    A run that raised is closed in the store as ``failed`` (or ``cancelled``) and re-raises.
    """
    result: PlanResult | None = None
    applied: ApplyReport | None = None
    recovered: tuple[Outcome, ...] = ()
    problems: tuple[str, ...] = ()
    summary: dict[str, object] = field(default_factory=dict)

    @property
    def plan(self) -> Plan | None:
        return self.result.plan if self.result is not None else None


async def build_plan(
    *,
    source: IdentitySource,
    directory: AccountDirectory,
    store: Store,
    policy: Policy,
    clock: Clock,
    overrides: frozenset[GuardName] = frozenset(),
    progress: SideProgress | None = None,
    adopt_backlog: bool = False,
) -> PlanResult:
    """Both snapshots concurrently, confirmations, then the pure planner.

    ``adopt_backlog``: a human asked to adopt the day-one backlog (see ``core.day_one``)."""
    on = progress or (lambda _side: None)
    if isinstance(directory, CoveringDirectory) and directory.directory_read != WALK:
        return await _covering_plan(
            source, directory, store, policy, clock, overrides, on, adopt_backlog
        )
    reads = (
        asyncio.ensure_future(source.snapshot(progress=on("keycloak"))),
        asyncio.ensure_future(directory.snapshot(progress=on("atlassian"))),
    )
    try:
        first_source, target = await asyncio.gather(*reads)
    except BaseException:
        # gather leaves the other read running: it would go on retrying on a closed client.
        for read in reads:
            read.cancel()
        await asyncio.gather(*reads, return_exceptions=True)
        raise
    return await _plan_from(
        first_source, target, source, store, policy, clock, overrides, adopt_backlog
    )


async def _covering_plan(
    source: IdentitySource,
    directory: CoveringDirectory,
    store: Store,
    policy: Policy,
    clock: Clock,
    overrides: frozenset[GuardName],
    on: SideProgress,
    adopt_backlog: bool,
) -> PlanResult:
    """Keycloak first; then the cheaper Atlassian read of the two (``covering_reads``).

    The links are read after the listing, not beside it in a thread: the listing keeps the
    process's one interpreter busy (parsing and casting 1,000 users a page), so a read
    beside it slowed it by as much as the read took (50,000 people, measured)."""
    first_source = await source.snapshot(progress=on("keycloak"))
    links = store.links()
    needs = accounts_needed(first_source, links, policy)
    targeted, why = choose(directory.directory_read, needs, store)
    log.info("atlassian read", choice=why)
    if not targeted:
        target = await directory.snapshot(progress=on("atlassian"))
        result = await _plan_from(
            first_source, target, source, store, policy, clock, overrides, adopt_backlog,
            known_links=links,
        )  # fmt: skip
        return dataclasses.replace(result, atlassian_read=why)

    async def widen(confirmed: SourceSnapshot, target: TargetSnapshot) -> TargetSnapshot:
        return await widened(directory, target, needs, (first_source, confirmed), links, policy)

    target = await read_covering(directory, needs, clock.now())
    result = await _plan_from(
        first_source, target, source, store, policy, clock, overrides, adopt_backlog,
        widen=widen, known_links=links,
    )  # fmt: skip
    return dataclasses.replace(result, atlassian_read=why)


async def _plan_from(
    first_source: SourceSnapshot,
    target: TargetSnapshot,
    source: IdentitySource,
    store: Store,
    policy: Policy,
    clock: Clock,
    overrides: frozenset[GuardName],
    adopt_backlog: bool = False,
    population: int | None = None,
    widen: Widen | None = None,
    known_links: list[Link] | None = None,
) -> PlanResult:
    """``known_links``: every link, when the caller has just read them (a full read of a big
    table is not worth making twice)."""
    links = known_links if known_links is not None else _links_for(first_source, target, store)
    candidates = candidates_to_confirm(first_source, target, links, policy)
    confirmed = first_source
    if candidates and first_source.complete and target.complete:
        confirmed = await source.confirm(first_source, candidates)
    elif candidates:
        # An incomplete side already blocks acting: confirming would only wait out retries.
        confirmed = _unconfirmed(first_source, len(candidates))
    if widen is not None:
        target = await widen(confirmed, target)
    baseline = previous_source_count(store) if confirmed.kind is SnapshotKind.FULL else None
    context = PlanContext(
        clock.now(), overrides, baseline, adopt_backlog=adopt_backlog, linked_population=population
    )
    made = plan(confirmed, target, links, policy, context)
    # After planning: never its own baseline, and only a plan the count-drop guard let
    # through moves it (a refused read, even a read-only `plan`, must not lift the guard).
    dropped = any(g.name is GuardName.SOURCE_COUNT_DROP for g in made.blocked_by)
    record_snapshots(store, confirmed, target, accepted=not dropped)
    record_source_health(store, made, confirmed)
    return PlanResult(made, confirmed, target)


def _unconfirmed(snapshot: SourceSnapshot, skipped: int) -> SourceSnapshot:
    """The snapshot as read, saying that its candidates were left unconfirmed, and why."""
    problem = f"{skipped} re-reads skipped: a side was read incompletely, nothing can be acted on"
    return dataclasses.replace(snapshot, problems=(*snapshot.problems, problem))


@dataclass(frozen=True, slots=True)
class _Run:
    """One run in the store, and what closing it needs."""

    run_id: str
    kind: str
    started: datetime
    directory: AccountDirectory
    store: Store
    clock: Clock
    policy: Policy

    @classmethod
    def start(
        cls, kind: str, directory: AccountDirectory, store: Store, clock: Clock, policy: Policy
    ) -> _Run:
        started = clock.now()
        run_id = store.start_run(kind, started)
        return cls(run_id, kind, started, directory, store, clock, policy)

    def abandon(self, error: BaseException) -> None:
        self.store.finish_run(self.run_id, self.clock.now(), *run_ending(error))


async def reconcile(
    *,
    source: IdentitySource,
    directory: AccountDirectory,
    store: Store,
    policy: Policy,
    clock: Clock,
    apply: bool,
    overrides: frozenset[GuardName] = frozenset(),
    progress: SideProgress | None = None,
    concurrency: int = 4,
    kind: str = "reconcile",
    preflight: Preflight = NO_PREFLIGHT,
    adopt_backlog: bool = False,
) -> RunReport:
    """One full run: settle any crash, plan, save the plan, apply when asked and not blocked.

    ``preflight`` (the lease fence, re-confirmation) is checked before every write."""
    run = _Run.start(kind, directory, store, clock, policy)
    try:
        recovered = await _recover_before(apply, directory, store, clock, preflight)
        result = await build_plan(
            source=source,
            directory=directory,
            store=store,
            policy=policy,
            clock=clock,
            overrides=overrides,
            progress=progress,
            adopt_backlog=adopt_backlog,
        )
        return await _finish(
            run, result, recovered, apply=apply, concurrency=concurrency, preflight=preflight
        )
    except BaseException as error:
        run.abandon(error)
        raise


async def recheck_identity(
    identity_id: IdentityId,
    *,
    source: IdentitySource,
    directory: AccountDirectory,
    store: Store,
    policy: Policy,
    clock: Clock,
    apply: bool = True,
    overrides: frozenset[GuardName] = frozenset(),
    concurrency: int = 4,
    preflight: Preflight = NO_PREFLIGHT,
    approved: bool = False,
) -> RunReport:
    """Re-check one identity from a fresh read by id, with the same rules and guards.

    While the last full Keycloak read showed an anomaly (count drop, incomplete listing), a
    re-check does not deprovision; ``approved`` (a human released the hold these people
    waited on) lets it, past the budget windows too.
    """
    run = _Run.start("recheck", directory, store, clock, policy)
    try:
        recovered = await _recover_before(apply, directory, store, clock, preflight)
        identity = await source.read_identity(identity_id)
        first_source = targeted_source(identity_id, identity, clock.now())
        links = store.links(identity_ids=[identity_id])
        emails = [identity.email if identity else None, *(link.email for link in links)]
        accounts = await targeted_accounts(directory, links, emails)
        target = targeted_target(store, accounts, clock.now())
        result = await _plan_from(first_source, target, source, store, policy, clock, overrides)
        return await _finish(
            run,
            result,
            recovered,
            apply=apply,
            concurrency=concurrency,
            preflight=preflight,
            approved=approved,
            paused=source_pause(store),
        )
    except BaseException as error:
        run.abandon(error)
        raise


def source_pause(store: Store) -> str:
    """Why one-person deprovisioning waits now (the last full Keycloak read showed a count
    drop or an incomplete listing), or empty when the last full read was healthy."""
    anomaly = store.cursor(SOURCE_ANOMALY_CURSOR) or ""
    if not anomaly:
        return ""
    return (
        f"source anomaly in the last full Keycloak read ({anomaly}); one-person "
        "deprovisioning waits for a healthy full read"
    )


def _links_for(source: SourceSnapshot, target: TargetSnapshot, store: Store) -> list[Link]:
    """All links for a full run; for a targeted one, only those its identities and accounts
    take part in (an account linked to someone else must still be seen as such)."""
    if source.kind is not SnapshotKind.TARGETED:
        return store.links()
    return store.links(
        identity_ids=source.targeted_ids, account_ids=[a.id for a in target.accounts]
    )


async def _recover_before(
    apply: bool, directory: AccountDirectory, store: Store, clock: Clock, preflight: Preflight
) -> tuple[Outcome, ...]:
    """Settle what a crash left before applying anything new; a plan-only run only reads."""
    if not apply:
        return ()
    fence = preflight.fence
    return tuple(await recover(directory=directory, store=store, clock=clock, fence=fence))


async def _finish(
    run: _Run,
    result: PlanResult,
    recovered: tuple[Outcome, ...],
    *,
    apply: bool,
    concurrency: int,
    preflight: Preflight = NO_PREFLIGHT,
    approved: bool = False,
    paused: str = "",
) -> RunReport:
    """Save the plan, apply it when asked, and close the run with a summary.

    A blocked plan goes to the executor too when applying: it refuses it, journals the guards
    and puts the hold that keeps re-checks of the same people from leaking through.
    """
    made, store = result.plan, run.store
    store.save_plan(run.run_id, made.fingerprint, plan_to_json(made))
    applied = None
    if apply:
        try:
            applied = await apply_plan(
                made,
                directory=run.directory,
                store=store,
                clock=run.clock,
                run_id=run.run_id,
                concurrency=concurrency,
                preflight=preflight,
                budget=run.policy.budget,
                approved=approved,
                paused=paused,
            )
        except PlanBlockedError:
            applied = None
    status = _status(made, apply, applied)
    problems = result.source.problems + result.target.problems
    summary = _summary(made, applied, recovered, problems)
    if result.atlassian_read:
        summary["atlassian_read"] = result.atlassian_read
    finished = run.clock.now()
    store.finish_run(run.run_id, finished, status, summary)
    return RunReport(
        run.run_id,
        run.kind,
        run.started,
        finished,
        status,
        result,
        applied,
        recovered,
        problems,
        summary,
    )


def _status(made: Plan, apply: bool, applied: ApplyReport | None) -> str:
    if made.is_blocked:
        return "blocked"
    if not apply or applied is None:
        return "planned"
    if applied.held:
        return "held"
    return "applied" if applied.all_done else "incomplete"


def _summary(
    made: Plan,
    applied: ApplyReport | None,
    recovered: tuple[Outcome, ...],
    problems: tuple[str, ...],
) -> dict[str, object]:
    summary: dict[str, object] = {"fingerprint": made.fingerprint, **plan_summary(made)}
    summary["blocked_by"] = [guard.name.value for guard in made.blocked_by]
    summary["problems"] = list(problems)
    if applied is not None:
        summary["applied"] = applied.counts
    if recovered:
        summary["recovered"] = {o.key: o.status.value for o in recovered}
    return summary
