"""Apply a plan: links first, then each action journaled, retried, verified; never twice.

An action whose outcome succeeded (or that recovery found done) under the same plan
fingerprint is never sent again, so applying a plan again after a crash only finishes what
was left. Every deprovisioning action, and every SCIM create, update and membership removal,
reserves its slots of its category's budget over time in the store just before it is sent
(``executor.budgeting``): every caller of ``apply_plan`` is covered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from datetime import datetime

from offboard.core.budget import (
    DEFAULT_BUDGET,
    DEFAULT_PROVISIONING_BUDGETS,
    Budget,
    BudgetCategory,
)
from offboard.core.holds import SOURCE_ANOMALY_CURSOR
from offboard.core.journal import Phase, SnapshotSummary, Status
from offboard.core.plan import Action, GuardName, Plan
from offboard.core.policy import LINK_KINDS
from offboard.executor import live_runs
from offboard.executor.batch_reads import BatchReader
from offboard.executor.budgeting import BudgetGate, hold_blocked_plan
from offboard.executor.group_commit import GroupCommitter
from offboard.executor.linking import key_of, planned_links
from offboard.executor.outcomes import ApplyReport, Outcome
from offboard.executor.preflight import NO_PREFLIGHT, Preflight
from offboard.executor.readback import ReadBackPolicy
from offboard.executor.records import action_record, note_record
from offboard.executor.retrying import RetryPolicy
from offboard.executor.sending import ActionSender, Sent
from offboard.executor.superseding import taken_over
from offboard.ports import (
    AccountDirectory,
    Clock,
    FenceLostError,
    OffboardError,
    Progress,
    Store,
)

EARLIER_RUN = "done by an earlier run of this plan: not sent again"


class PlanBlockedError(OffboardError):
    """The plan tripped a guard that was not overridden: nothing was applied."""

    def __init__(self, plan: Plan) -> None:
        messages = "; ".join(guard.message for guard in plan.blocked_by)
        super().__init__(f"plan {plan.fingerprint[:12]} is blocked, nothing applied: {messages}")
        self.guards = tuple(guard.name for guard in plan.blocked_by)


def settled_keys(store: Store, fingerprint: str, since: datetime) -> set[str]:
    """Keys of actions already done under this plan: succeeded, or found done by recovery."""
    done: set[str] = set()
    for record in store.journal(since=since):
        if record.fingerprint != fingerprint:
            continue
        succeeded = record.phase is Phase.OUTCOME and record.status is Status.SUCCEEDED
        recovered = record.phase is Phase.RECOVERED and record.status is Status.VERIFIED
        if succeeded or recovered:
            done.add(record.action_key)
    return done


def _check_guards(
    plan: Plan,
    overrides: frozenset[GuardName],
    store: Store,
    clock: Clock,
    run_id: str,
    preflight: Preflight = NO_PREFLIGHT,
) -> tuple[str, ...]:
    """Refuse a blocked plan unless every blocking guard is overridden; journal either way."""
    blocking = plan.blocked_by
    if not blocking:
        return ()
    refused = [guard for guard in blocking if guard.name not in overrides]
    for guard in blocking:
        verdict = "refused" if guard in refused else "overridden"
        store.append(
            note_record(
                at=clock.now(),
                run_id=run_id,
                fingerprint=plan.fingerprint,
                key=f"guard:{guard.name.value}",
                detail=f"guard {verdict}: {guard.message}",
                rule=guard.name.value,
            ),
            fence=preflight.fence,
        )
    if refused:
        hold_blocked_plan(plan, store, clock, run_id)
        raise PlanBlockedError(plan)
    if GuardName.SOURCE_COUNT_DROP in {guard.name for guard in blocking}:
        _accept_source_count(plan, store, clock)
    return tuple(guard.name.value for guard in blocking)


def _accept_source_count(plan: Plan, store: Store, clock: Clock) -> None:
    """A journaled override of the count-drop guard makes this plan's count the baseline
    (only a plan that passed, or this, may move it)."""
    count = plan.facts.get("identities")
    if count is not None:
        store.record_snapshot(SnapshotSummary("keycloak", clock.now(), count, True, "full"))
    if GuardName.SOURCE_INCOMPLETE not in {guard.name for guard in plan.blocked_by}:
        store.set_cursor(SOURCE_ANOMALY_CURSOR, "")


def _release_by_override(
    plan: Plan,
    overrides: frozenset[GuardName],
    store: Store,
    clock: Clock,
    run_id: str,
    actor: str,
) -> bool:
    """``--override-guard`` of every guard of the active hold approves this plan's
    deprovisioning (journaled); True when it did. The hold is released too when the plan
    covers everyone waiting on it (``apply`` of the held plan); a plan for fewer people
    (``deactivate`` of one) passes alone and the others keep waiting."""
    category = BudgetCategory.DEPROVISIONING.value
    hold = store.active_hold(category) if plan.deprovisioning and overrides else None
    if hold is None or not set(hold.guards) <= {name.value for name in overrides}:
        return False
    names = ", ".join(hold.guards)
    reason = f"--override-guard {names} for plan {plan.fingerprint[:12]}"
    covered = {action.identity_id for action in plan.deprovisioning}
    if set(hold.people) <= covered:
        store.release_hold(category, actor, reason, clock.now())
        detail, key = f"hold #{hold.id} released by {actor}: {reason}", "hold-release"
    else:
        detail, key = f"{len(covered)} approved past hold #{hold.id} by {actor}: {reason}", "hold"
    store.append(
        note_record(
            at=clock.now(),
            run_id=run_id,
            fingerprint=plan.fingerprint,
            key=f"{key}:{hold.id}",
            detail=detail,
            rule=category,
        )
    )
    return True


def _save_links(plan: Plan, sender: ActionSender) -> int:
    """Persist the plan's bookkeeping before any request, journaled per LINK/RELINK action."""
    now = sender.clock.now()
    changed = planned_links(plan, sender.links, now)
    records = [
        action_record(
            action,
            at=now,
            run_id=sender.run_id,
            fingerprint=plan.fingerprint,
            phase=Phase.OUTCOME,
            status=Status.SUCCEEDED,
            detail="link saved",
        )
        for action in plan.actions
        if action.kind in LINK_KINDS
    ]
    # One fenced commit: a replaced leader cannot even change the links.
    sender.store.append_all(records, changed, fence=sender.preflight.fence)
    sender.links.update((key_of(link), link) for link in changed)
    return len(changed)


def _by_account(actions: Iterable[Action]) -> list[list[Action]]:
    """Actions on one account run in plan order, one at a time; accounts run side by side."""
    groups: dict[str, list[Action]] = {}
    for action in actions:
        groups.setdefault(action.account_id, []).append(action)
    return list(groups.values())


async def apply_plan(
    plan: Plan,
    *,
    directory: AccountDirectory,
    store: Store,
    clock: Clock,
    run_id: str,
    concurrency: int = 4,
    progress: Progress | None = None,
    overrides: frozenset[GuardName] = frozenset(),
    retry: RetryPolicy | None = None,
    preflight: Preflight = NO_PREFLIGHT,
    budget: Budget = DEFAULT_BUDGET,
    budgets: Mapping[str, Budget] | None = None,
    approved: bool = False,
    paused: str = "",
    actor: str = "offboard",
    shared_reads: bool = True,
) -> ApplyReport:
    """Carry out ``plan``; raises ``PlanBlockedError`` when a guard blocks it (not overridden).

    ``preflight`` is checked before every request (see ``executor.preflight``): raises
    ``FenceLostError`` as soon as this process no longer holds the lease it acts under.
    Each deprovisioning action spends a slot of ``budget`` first (reserved in the store);
    ``budgets`` sets the other categories' budgets by name (the provisioning ones; defaults
    ``DEFAULT_PROVISIONING_BUDGETS``), and its ``deprovisioning`` entry, if any, wins;
    ``approved`` is a human's release of a hold for these people (no budget window applies);
    ``paused`` holds deprovisioning back for a reason (a source anomaly); ``actor`` is who an
    override releasing a hold is journaled for. ``shared_reads=False``: read-backs wait for
    no company from other applies running at once (an operator's one-person act during a
    long pass; ``executor.batch_reads``).
    """
    overridden = _check_guards(plan, overrides, store, clock, run_id, preflight)
    approved = approved or _release_by_override(plan, overrides, store, clock, run_id, actor)
    every_budget = {
        **DEFAULT_PROVISIONING_BUDGETS,
        BudgetCategory.DEPROVISIONING.value: budget,
        **(budgets or {}),
    }
    # One writer queue for the apply: admissions and journal writes share its commits.
    committer = GroupCommitter(store, preflight.fence, clock)
    gate = BudgetGate.open(
        store, clock, run_id, plan.fingerprint, every_budget,
        approved=approved, paused=paused, fence=preflight.fence, committer=committer,
    )  # fmt: skip
    retry = retry or RetryPolicy()
    sender = ActionSender(
        directory,
        store,
        clock,
        run_id,
        plan.fingerprint,
        retry,
        {key_of(link): link for link in store.links(identity_ids=_identities_in(plan))},
        readback=ReadBackPolicy(sleep=retry.sleep),
        preflight=preflight,
        reader=(
            reader := BatchReader.shared(directory)
            if shared_reads
            else BatchReader.for_directory(directory)
        ),
        committer=committer,
    )
    links_saved = _save_links(plan, sender)
    to_send = [action for action in plan.actions if action.kind not in LINK_KINDS]
    done = settled_keys(store, plan.fingerprint, plan.created_at)
    preflight.expect(action for action in to_send if action.key not in done)
    outcomes: dict[str, Outcome] = {}
    limit = asyncio.Semaphore(max(1, concurrency))
    lost: list[FenceLostError] = []

    async def run_group(group: list[Action]) -> None:
        try:
            await run_actions(group)
        finally:
            reader.finished()

    async def run_actions(group: list[Action]) -> None:
        for action in group:
            try:
                async with limit:
                    if lost:
                        return  # the lease is gone: this process sends nothing more
                    sent = await _run_one(action, sender, plan, done, gate)
                # Outside the slot (it bounds the requests in flight): the next sends go on
                # while this outcome is committed and its read-back waits for a batch.
                if isinstance(sent, Sent):
                    sent = await sender.record_outcome(sent)
                outcomes[action.key] = await sender.confirm(sent)
            except FenceLostError as error:
                lost.append(error)
                return
            if progress is not None:
                progress(len(outcomes), len(to_send))

    groups = _by_account(to_send)
    reader.begin(len(groups))
    try:
        with live_runs.applying(run_id):  # its intents are in flight, not a crash's: see there
            async with asyncio.TaskGroup() as group:
                for actions in groups:
                    group.create_task(run_group(actions))
    finally:
        await preflight.close()
    if lost:
        raise lost[0]
    ordered = tuple(outcomes[action.key] for action in to_send)
    return ApplyReport(run_id, plan.fingerprint, ordered, links_saved, overridden)


async def _run_one(
    action: Action, sender: ActionSender, plan: Plan, done: set[str], gate: BudgetGate
) -> Outcome | Sent:
    """Send one action unless an earlier run did it, a fresh read says it is not wanted, or
    the budget has no slot left (then it is held).

    The order matters: the fresh read first (a person re-enabled meanwhile spends no slot),
    then, in the daemon's full pass, room for an operator's act that waits (and a skip of
    what that act took over: ``executor.superseding``), then one
    transaction that holds the fence with the lease unexpired (a leader whose lease ran
    out, or was taken over, spends no slot and sends nothing), spends the slot and commits
    the intent (``BudgetGate.admit``), then the send.
    A skip's record holds the fence too: a take-over stops every write.
    """
    if action.key in done:
        return Outcome(action, Status.VERIFIED, "done by an earlier run")
    skip = await sender.preflight.reason_to_skip(action, plan.created_at, sender.clock.now())
    if skip is not None:
        await sender.journal(sender.record(action, Phase.OUTCOME, Status.SKIPPED, detail=skip))
        return Outcome(action, Status.SKIPPED, skip)
    async with sender.preflight.sending():  # an operator's act in between goes first
        action, superseded = await taken_over(action, sender)
        if superseded is not None:
            record = sender.record(action, Phase.OUTCOME, Status.SKIPPED, detail=superseded)
            await sender.journal(record)
            return Outcome(action, Status.SKIPPED, superseded)
        held = await gate.admit(action, sender.intent(action))
        return held or await sender.send(action)


def _identities_in(plan: Plan) -> set[str]:
    """Whose links the plan may read or change: a full table read is not needed to apply."""
    return {a.identity_id for a in plan.actions} | {u.identity_id for u in plan.link_updates}
