"""Retry a failed action: one implementation for the console and ``offboard retry``.

A failed action is never replayed as it was: the person is re-planned from fresh reads by
id (``recheck_identity``) and whatever the rules decide now goes through ``apply_plan``,
under the guards, the budget and the caller's lease, as every run. The request is
journaled first, with who and why, under the person's id (so their history shows it).

While a daemon leads, only the request is journaled (``preflight=None``): the daemon's
next full reconciliation plans that person from fresh reads anyway, and the console also
asks it to re-check them at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from offboard.core.identities import IdentityId
from offboard.core.journal import JournalRecord, Phase, Status
from offboard.core.plan import EntryStatus
from offboard.executor.preflight import Preflight
from offboard.service.operator import Act, OperatorRefusedError, Sides
from offboard.service.reconciling import RunReport, recheck_identity

RETRYABLE = frozenset({Status.FAILED, Status.MISMATCH})
_SETTLED = frozenset({Status.SUCCEEDED, Status.VERIFIED})
_PHASES = frozenset({Phase.OUTCOME, Phase.READBACK, Phase.RECOVERED})


@dataclass(frozen=True, slots=True)
class RetryReport:
    """The failed record retried, and the re-check run (None: left to the leading daemon)."""

    failed: JournalRecord
    run: RunReport | None
    moot: str | None = None
    """Why the fresh plan needs nothing for the failed action (None: it was planned again,
    or left to the leading daemon)."""

    def words(self) -> str:
        """What the retry did, for the console and the command line alike."""
        key = self.failed.action_key
        if self.run is None:
            return f"retry of {key} journaled; the leading daemon re-plans this person"
        if self.moot is not None:
            return (f"{key} re-planned from fresh reads: nothing to do now ({self.moot}); "
                    "the failure is settled")  # fmt: skip
        return f"{key} re-planned from fresh reads: {self.run.status}"


def failed_action(action_key: str, sides: Sides) -> JournalRecord:
    """The last outcome of ``action_key`` when it failed; refused when there is nothing to
    retry (unknown key, or its last outcome succeeded)."""
    parts = action_key.strip().split(":")
    if len(parts) != 3 or not all(parts):
        raise OperatorRefusedError(
            f"{action_key!r} is not an action id (KIND:KEYCLOAK_ID:ACCOUNT_ID, as "
            "`offboard journal list` and the console show it)"
        )
    key = ":".join(parts)
    outcomes = [
        r
        for r in sides.store.journal(identity_id=parts[1])
        if r.action_key == key and r.phase in _PHASES
    ]
    if not outcomes:
        raise OperatorRefusedError(f"the journal has no outcome for {key}: nothing to retry")
    last = outcomes[-1]
    if last.status not in RETRYABLE:
        raise OperatorRefusedError(
            f"the last outcome of {key} is {last.status.value}, not a failure: nothing to retry"
        )
    return last


async def retry_action(
    action_key: str, act: Act, sides: Sides, *, preflight: Preflight | None
) -> RetryReport:
    """Journal the retry (who, why), then re-plan and apply the person from fresh reads."""
    failed = failed_action(action_key, sides)
    identity_id = IdentityId(failed.action_key.split(":")[1])
    store, clock = sides.store, sides.clock
    run_id = store.start_run("retry", clock.now())
    later = "now" if preflight is not None else "by the leading daemon"
    store.append(
        JournalRecord(
            at=clock.now(), run_id=run_id, action_key=f"retry:{failed.action_key}",
            phase=Phase.NOTE, status=Status.INFO, kind="retry", identity_id=identity_id,
            account_id=failed.account_id, email=failed.email, rule=failed.rule,
            reason=act.words,
            detail=f"retry of {failed.action_key} ({failed.status.value}: {failed.detail}) "
            f"{act.words}; re-planned from fresh reads {later}",
        )
    )  # fmt: skip
    summary: dict[str, object] = {"action": failed.action_key, "actor": act.actor,
                                  "reason": act.reason}  # fmt: skip
    store.finish_run(run_id, clock.now(), "requested", summary)
    if preflight is None:
        return RetryReport(failed, None)
    report = await recheck_identity(
        identity_id, source=sides.source, directory=sides.directory, store=store,
        policy=sides.policy, clock=clock, apply=True, preflight=preflight,
    )  # fmt: skip
    moot = _not_needed(failed, report)
    if moot is not None:
        store.append(
            JournalRecord(
                at=clock.now(), run_id=report.run_id, action_key=failed.action_key,
                phase=Phase.OUTCOME, status=Status.SKIPPED, kind=failed.kind,
                identity_id=identity_id, account_id=failed.account_id, email=failed.email,
                rule=failed.rule, reason=act.words,
                detail=f"not needed any more: {moot}; the earlier failure is settled",
            )
        )  # fmt: skip
    return RetryReport(failed, report, moot)


def _not_needed(failed: JournalRecord, report: RunReport) -> str | None:
    """Why a fresh plan that passed its guards has no action for ``failed`` any more, or
    None when it still has one, was blocked, or waits for a human about this person."""
    plan = report.plan
    if plan is None or plan.is_blocked or report.status not in ("applied", "planned"):
        return None
    if any(action.key == failed.action_key for action in plan.actions):
        return None
    about = [e for e in plan.entries if e.account_id == failed.account_id
             or (e.identity_id is not None and e.identity_id == failed.identity_id)]  # fmt: skip
    if any(e.status is EntryStatus.BLOCKED for e in about):
        return None
    return about[0].reason if about else "the rules ask for nothing for this account now"
