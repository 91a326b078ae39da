"""The daemon's passes on top of ``service.reconciling``: apply, then report from the journal.

Both passes apply (the daemon acts; guards still block). What each action did is read back
from the run's journal records, which carry the time of the read-back that confirmed it.
"""

from __future__ import annotations

from dataclasses import dataclass

from offboard.core.identities import IdentityId
from offboard.core.policy import Policy
from offboard.ports import AccountDirectory, Clock, IdentitySource, Store
from offboard.service.passes import PassReport, action_reports
from offboard.service.reconciling import RunReport, recheck_identity, reconcile

_UNFINISHED = frozenset({"failed", "incomplete"})


@dataclass
class ReconcilingPasses:
    """:class:`~offboard.service.passes.Passes` over the real pipeline."""

    source: IdentitySource
    directory: AccountDirectory
    store: Store
    policy: Policy
    clock: Clock
    concurrency: int = 4

    async def full(self) -> PassReport:
        report = await reconcile(
            source=self.source,
            directory=self.directory,
            store=self.store,
            policy=self.policy,
            clock=self.clock,
            apply=True,
            concurrency=self.concurrency,
            kind="daemon",
        )
        return self.to_pass(report, "full")

    async def recheck(self, identity_id: IdentityId) -> PassReport:
        report = await recheck_identity(
            identity_id,
            source=self.source,
            directory=self.directory,
            store=self.store,
            policy=self.policy,
            clock=self.clock,
            apply=True,
            concurrency=self.concurrency,
        )
        return self.to_pass(report, "recheck")

    def to_pass(self, report: RunReport, kind: str) -> PassReport:
        """The daemon's view of one run."""
        actions = action_reports(self.store.journal(run_id=report.run_id))
        result = report.result
        read_whole = result is not None and result.source.complete and result.target.complete
        counts = dict(report.plan.facts) if report.plan is not None else {}
        counts["actions"] = len(actions)
        return PassReport(
            kind=kind,
            started_at=report.started_at,
            finished_at=report.finished_at,
            complete=read_whole and report.status not in _UNFINISHED,
            run_id=report.run_id,
            plan=report.plan,
            actions=actions,
            problems=report.problems,
            counts=counts,
        )
