"""The daemon's passes with provisioning on: leavers first, then joiners and movers.

Each pass is the deprovisioning pass as before, followed by the provisioning pass of the same
scope (the whole directory for a full pass, one person for a re-check), in a run of its own.
A provisioning plan a guard blocks is journaled by ``apply_plan`` and reported; it never
stops the deprovisioning pass, which runs first.

A full pass makes room for an operator's act between its writes in both parts, as
``service.gate`` describes: the whole pass is one ``yielding`` block, so a person an act
took over during the deprovisioning part is left alone by the SCIM part too. A first SCIM
sync of hundreds of joiners runs for minutes at Atlassian's rate limit; an emergency
cut-off does not wait for it.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import structlog

from offboard.core.identities import IdentityId
from offboard.core.plan import Plan
from offboard.executor.applying import PlanBlockedError
from offboard.executor.preflight import Preflight, SendGate
from offboard.ports import Clock, OffboardError, Store
from offboard.service.gate import PassGate
from offboard.service.leasing import Lease
from offboard.service.passes import Passes, PassReport, action_reports
from offboard.service.provisioning import Provisioning
from offboard.service.provisioning_waves import wave_plan

log = structlog.get_logger(__name__)


@dataclass
class ProvisioningPasses:
    """:class:`~offboard.service.passes.Passes`: ``inner`` (leavers), then provisioning."""

    inner: Passes
    provisioning: Provisioning
    store: Store
    clock: Clock
    lease: Lease | None = None
    """The daemon's leader lease: every provisioning write checks its fence."""
    gate: PassGate | None = None
    """The daemon's gate: a full pass's SCIM writes make room for an operator's act
    (``service.gate``); None: they go on alone. Re-checks and waves never yield."""

    async def full(self) -> PassReport:
        gate = self.gate
        async with gate.yielding() if gate is not None else contextlib.nullcontext():
            report = await self.inner.full()
            return await self._then(
                report,
                lambda: self.provisioning.plan(self.clock, store=self.store),
                "full",
                sends=gate,
            )

    async def recheck(self, identity_id: IdentityId) -> PassReport:
        report = await self.inner.recheck(identity_id)
        return await self._then(
            report,
            lambda: self.provisioning.recheck_plan(identity_id, self.clock, store=self.store),
            "recheck",
        )

    async def wave(self, identity_ids: Sequence[IdentityId]) -> PassReport:
        """The wave's deprovisioning plan, then one provisioning plan for the wave, read
        together (``provisioning_waves``). People not read in the wave are retried by the
        daemon, so they are not provisioned now."""
        report = await self.inner.wave(identity_ids)
        wanted = [identity_id for identity_id in identity_ids if identity_id not in report.unread]
        if not wanted:
            return report
        left_out: tuple[str, ...] = ()

        async def planning() -> Plan:
            nonlocal left_out
            plan, left_out = await wave_plan(self.provisioning, wanted, self.clock, self.store)
            return plan

        report = await self._then(report, planning, "wave")
        if not left_out:
            return report
        return dataclasses.replace(report, complete=False, problems=(*report.problems, *left_out))

    async def _then(
        self,
        report: PassReport,
        planning: Callable[[], Awaitable[Plan]],
        kind: str,
        sends: SendGate | None = None,
    ) -> PassReport:
        run_id = self.store.start_run(f"provision-{kind}", self.clock.now())
        status, problems, applied = "applied", list[str](), 0
        try:
            plan: Plan = await planning()
            if plan.has_changes:
                fence = self.lease.fence if self.lease is not None else None
                reports = await self.provisioning.apply(
                    plan,
                    store=self.store,
                    clock=self.clock,
                    run_id=run_id,
                    preflight=Preflight(fence=fence, sends=sends),
                )
                applied = sum(len(r.outcomes) for r in reports)
                status = "applied" if all(r.all_done for r in reports) else "incomplete"
            else:
                status = "nothing-to-do"
        except PlanBlockedError as blocked:
            status, problems = "blocked", [str(blocked)]
        except OffboardError as error:
            status, problems = "failed", [f"provisioning: {error}"]
        log.info("provisioning pass", kind=kind, status=status, actions=applied)
        self.store.finish_run(run_id, self.clock.now(), status, {"actions": applied})
        actions = action_reports(self.store.journal(run_id=run_id))
        counts = dict(report.counts) | {"provisioning_actions": applied}
        return dataclasses.replace(
            report,
            complete=report.complete and status in ("applied", "nothing-to-do"),
            actions=(*report.actions, *actions),
            problems=(*report.problems, *problems),
            counts=counts,
        )
