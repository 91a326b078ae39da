"""The daemon's passes on top of ``service.reconciling``: apply, then report from the journal.

Both passes apply (the daemon acts; guards still block). What each action did is read back
from the run's journal records, which carry the time of the read-back that confirmed it.
Events about identities offboard never linked are not re-checked unless the policy adopts
unlinked accounts: with no link there is nothing the planner may deprovision or give back,
and the realm's other users (service accounts, people without Atlassian) would otherwise
spend vendor calls and worker slots that a leaver's re-check needs.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from offboard.core.identities import IdentityId
from offboard.core.policy import Policy
from offboard.executor.preflight import Preflight, SendGate
from offboard.ports import AccountDirectory, Clock, FenceLostError, IdentitySource, Store
from offboard.service.gate import PassGate
from offboard.service.leasing import Lease
from offboard.service.passes import PassReport, action_reports
from offboard.service.reconciling import RunReport, recheck_identity, reconcile
from offboard.service.waves import recheck_wave

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
    wave_concurrency: int = 10
    """Actions of a wave in flight at once. The rate limiter paces them: with 4, each also
    writing and syncing its journal records, a wave of 300 sent 6.8 requests a second of
    the 10 Atlassian allows (measured, benchmarks/bench_latency.py --wave 300)."""
    lease: Lease | None = None
    """The daemon's lease: each pass acts under the fence it holds when the pass starts."""
    reconfirm_after: timedelta = timedelta(seconds=5)
    """Actions of a plan older than this re-read their person first (``executor.preflight``)."""
    gate: PassGate | None = None
    """The daemon's gate: a full pass makes room between its writes for an operator's act
    (``service.gate``); None: it runs alone."""

    def preflight(self, sends: SendGate | None = None) -> Preflight:
        """The checks of a pass starting now; refuses to start one without the lease."""
        fence = None
        if self.lease is not None:
            fence = self.lease.fence
            if fence is None:
                raise FenceLostError("not the leader: this replica does not act")
        return Preflight(fence, self.source, self.reconfirm_after, sends=sends)

    async def full(self) -> PassReport:
        """A full reconciliation; an operator's act may run between its writes (re-checks
        and waves hold the gate shared and never yield: an act waits for them instead)."""
        gate = self.gate
        async with gate.yielding() if gate is not None else contextlib.nullcontext():
            report = await reconcile(
                source=self.source,
                directory=self.directory,
                store=self.store,
                policy=self.policy,
                clock=self.clock,
                apply=True,
                concurrency=self.concurrency,
                kind="daemon",
                preflight=self.preflight(sends=gate),
            )
        return self.to_pass(report, "full")

    async def recheck(self, identity_id: IdentityId) -> PassReport:
        if not self.policy.adopt_unlinked and not self._linked(identity_id):
            # Nothing to deprovision or give back: offboard only acts on linked accounts here.
            # The next full reconciliation links new identities; no vendor call is spent now.
            now = self.clock.now()
            return PassReport("recheck", now, now, complete=True, counts={"skipped_unlinked": 1})
        report = await recheck_identity(
            identity_id,
            source=self.source,
            directory=self.directory,
            store=self.store,
            policy=self.policy,
            clock=self.clock,
            apply=True,
            concurrency=self.concurrency,
            preflight=self.preflight(),
        )
        return self.to_pass(report, "recheck")

    async def wave(self, identity_ids: Sequence[IdentityId]) -> PassReport:
        """One targeted plan for everyone in the wave (``service.waves``)."""
        wanted = list(identity_ids)
        if not self.policy.adopt_unlinked:
            # As for one person: only linked people can be deprovisioned or given back.
            linked = {link.identity_id for link in self.store.links(identity_ids=wanted)}
            wanted = [identity_id for identity_id in wanted if identity_id in linked]
        now = self.clock.now()
        skipped = {"skipped_unlinked": len(identity_ids) - len(wanted)}
        if not wanted:
            return PassReport("wave", now, now, complete=True, counts=skipped)
        done = await recheck_wave(
            wanted,
            source=self.source,
            directory=self.directory,
            store=self.store,
            policy=self.policy,
            clock=self.clock,
            apply=True,
            concurrency=self.wave_concurrency,
            preflight=self.preflight(),
        )
        if done.run is None:
            finished = self.clock.now()
            return PassReport(
                "wave",
                now,
                finished,
                complete=False,
                unread={str(k): v for k, v in done.unread.items()},
            )
        report = self.to_pass(done.run, "wave")
        counts = {**report.counts, **skipped, "people": len(wanted)}
        return dataclasses.replace(
            report, unread={str(k): v for k, v in done.unread.items()}, counts=counts
        )

    def _linked(self, identity_id: IdentityId) -> bool:
        return bool(self.store.links(identity_ids=[identity_id]))

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
