"""What the daemon's log says about a pass an operator must look at (QA finding).

With Keycloak and Atlassian down, a full pass logged ``plan blocked by guard`` three times
(source-count-drop among them: read as "people vanished") and ``pass finished`` with
``complete: false``, and nothing about why: the reasons were only on ``/readyz``. Now the
guard's own message and the pass's first problems are in the log, with what to do.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from offboard.service.passes import PassReport
from tests.service.fakes import FakePasses, blocked_plan
from tests.service.test_running import Rig

PROBLEMS = (
    "group '/staff' could not be resolved: Keycloak is unreachable",
    "205 re-reads skipped: a side was read incompletely",
    "Atlassian read stopped after 0 accounts: ConnectError",
    "provisioning skipped",
    "licence check skipped",
)


@dataclass
class DownPasses(FakePasses):
    async def full(self) -> PassReport:
        self.fulls += 1
        start = self.clock.now()
        plan = blocked_plan(start)
        return PassReport("full", start, self.clock.now(), False, "r", plan, (), PROBLEMS)


async def test_an_incomplete_blocked_pass_says_why_in_the_log() -> None:
    rig = Rig()
    rig.daemon.passes = DownPasses(rig.clock)
    rig.lease.refresh()
    with structlog.testing.capture_logs() as logs:
        await rig.daemon.reconcile_once()
    [blocked] = [line for line in logs if line["event"] == "plan blocked by guard"]
    assert blocked["guard"] == "max-deactivations"
    assert blocked["why"]  # the guard's own message: numbers, limit, override
    [incomplete] = [line for line in logs if line["event"] == "pass incomplete"]
    assert incomplete["log_level"] == "warning"
    assert incomplete["problems"] == [*PROBLEMS[:3], "and 2 more"]
    assert "/readyz" in incomplete["what_to_do"]
