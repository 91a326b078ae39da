"""Apply a plan in a run of its own, guards lifted by a human: `offboard apply` and the console.

:func:`apply_in_run` is what ``offboard apply`` (and ``--override-guard``) does once the plan
is chosen and confirmed: settle a crash first, save the plan, apply it through
``apply_plan`` (guards, budget, lease, journal, read-back) and close the run.

:func:`approve_override` is the console's "approve a guard override for one plan": the plan
is made again from fresh reads and must be the one the operator saw (same fingerprint, same
blocking guards), so an approval never carries over to a plan the operator did not see.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from offboard.core.journal import JournalRecord, Phase, Status
from offboard.core.plan import GuardName, Plan
from offboard.core.plan_json import plan_to_json
from offboard.executor import ApplyReport, PlanBlockedError, apply_plan, recover
from offboard.executor.preflight import Preflight
from offboard.service.endings import run_ending
from offboard.service.operator import Act, OperatorRefusedError, Sides
from offboard.service.reconciling import build_plan

log = structlog.get_logger(__name__)

Progress = Callable[[int, int | None], None]


async def apply_in_run(
    plan: Plan,
    sides: Sides,
    *,
    actor: str,
    preflight: Preflight,
    overrides: frozenset[GuardName] = frozenset(),
    kind: str = "apply",
    paused: str = "",
    progress: Progress | None = None,
    note: str = "",
    on_run: Callable[[str], None] | None = None,
) -> ApplyReport:
    """Apply ``plan`` in a run of its own (``note``: journaled first, e.g. who approved)."""
    store, clock = sides.store, sides.clock
    run_id = store.start_run(kind, clock.now())
    if on_run is not None:
        on_run(run_id)
    log.info("applying", fingerprint=plan.fingerprint, actions=len(plan.actions))
    try:
        if note:
            store.append(_note(run_id, plan, note, sides))
        await recover(directory=sides.directory, store=store, clock=clock, fence=preflight.fence)
        store.save_plan(run_id, plan.fingerprint, plan_to_json(plan))
        report = await apply_plan(
            plan, directory=sides.directory, store=store, clock=clock, run_id=run_id,
            overrides=overrides, progress=progress, preflight=preflight,
            budget=sides.policy.budget, actor=actor, paused=paused,
        )  # fmt: skip
    except PlanBlockedError as error:
        store.finish_run(run_id, clock.now(), "blocked", {"blocked_by": list(error.guards)})
        raise
    except BaseException as error:
        store.finish_run(run_id, clock.now(), *run_ending(error))
        raise
    status = "held" if report.held else "applied" if report.all_done else "incomplete"
    log.info("applied", status=status, **report.counts)
    summary: dict[str, object] = {"fingerprint": plan.fingerprint, "applied": report.counts}
    store.finish_run(run_id, clock.now(), status, summary)
    return report


async def approve_override(
    fingerprint: str,
    guards: frozenset[GuardName],
    act: Act,
    sides: Sides,
    *,
    preflight: Preflight,
) -> ApplyReport:
    """Lift ``guards`` for the plan ``fingerprint`` only: planned again from fresh reads,
    refused unless it is that plan and those guards are exactly what block it."""
    made = await build_plan(
        source=sides.source,
        directory=sides.directory,
        store=sides.store,
        policy=sides.policy,
        clock=sides.clock,
    )
    plan = made.plan
    if plan.fingerprint != fingerprint.strip():
        raise OperatorRefusedError(
            f"the plan changed since it was shown (now {plan.fingerprint[:12]}, shown "
            f"{fingerprint.strip()[:12]}): look at it again; nothing was applied"
        )
    blocking = frozenset(g.name for g in plan.blocked_by)
    if not blocking:
        raise OperatorRefusedError("no guard blocks this plan any more: nothing to approve")
    if guards != blocking:
        names = ", ".join(sorted(g.value for g in blocking))
        raise OperatorRefusedError(f"this plan is blocked by {names}: approve exactly those")
    lifted = ", ".join(sorted(g.value for g in guards))
    note = f"override of {lifted} for plan {plan.fingerprint[:12]} approved {act.words}"
    return await apply_in_run(plan, sides, actor=act.actor, preflight=preflight,
                              overrides=guards, kind="override", note=note)  # fmt: skip


def _note(run_id: str, plan: Plan, text: str, sides: Sides) -> JournalRecord:
    return JournalRecord(
        at=sides.clock.now(), run_id=run_id, action_key="operator:override", phase=Phase.NOTE,
        status=Status.INFO, kind="override", detail=text, fingerprint=plan.fingerprint,
    )  # fmt: skip
