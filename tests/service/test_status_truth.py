"""The status page never shows as waiting for review what was already carried out (issue 11,
reproduction 3: "Blocked plans: full … use --override-guard" after the actions were done)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from offboard.core.holds import Hold, WindowUsage
from offboard.core.identities import IdentityId
from offboard.core.plan import Action, Rule
from offboard.core.policy import ActionKind
from offboard.server.console import ConsoleBackend
from offboard.server.console.attention_page import current
from offboard.service.holds import GuardState
from offboard.service.passes import ActionReport, PassReport
from offboard.service.status import DaemonStatus
from tests.server.conftest import LIMITS
from tests.service.fakes import FakeClock, blocked_plan

BLOCKED = "data-kind='blocked-plan'"
HELD = "data-kind='hold'"


async def render_status_page(status: DaemonStatus) -> str:
    return await current(status, LIMITS, ConsoleBackend())


def _leaver(n: int) -> Action:
    return Action(ActionKind.DEACTIVATE, IdentityId(f"id-{n}"), f"acc-{n}", None,
                  Rule.IDENTITY_DISABLED, "left")  # fmt: skip


def _done(clock: FakeClock, n: int) -> ActionReport:
    return ActionReport(f"deactivate:id-{n}:acc-{n}", "deactivate", f"id-{n}", f"acc-{n}", None,
                        "verified", clock.now(), deprovisioning=True, read_back=True)  # fmt: skip


def _blocked_full(clock: FakeClock, people: range) -> PassReport:
    plan = dataclasses.replace(blocked_plan(clock.now()), actions=tuple(_leaver(n) for n in people))
    return PassReport("full", clock.now(), clock.now(), complete=True, plan=plan)


async def test_a_blocked_plan_leaves_the_page_once_its_people_were_deprovisioned() -> None:
    clock = FakeClock()
    status = DaemonStatus(clock)
    status.record_pass(_blocked_full(clock, range(3)), "full")
    assert status.blocked["full"].waiting == {"id-0", "id-1", "id-2"}
    for n in range(2):
        done = PassReport("recheck", clock.now(), clock.now(), True, actions=(_done(clock, n),))
        status.record_pass(done, f"id-{n}")
    assert status.blocked["full"].waiting == {"id-2"}
    page = await render_status_page(status)
    assert BLOCKED in page
    assert "Keycloak id id-2" in page  # the one still waiting
    assert "Keycloak id id-1" not in page
    last = PassReport("recheck", clock.now(), clock.now(), True, actions=(_done(clock, 2),))
    status.record_pass(last, "id-2")
    assert status.blocked == {}
    assert BLOCKED not in await render_status_page(status)


async def test_a_released_hold_takes_its_blocked_plans_off_the_page() -> None:
    clock = FakeClock()
    status = DaemonStatus(clock)
    status.record_pass(_blocked_full(clock, range(30)), "full")
    usage = (WindowUsage("hour", timedelta(hours=1), 10, 10),)
    hold = Hold(1, "deprovisioning", ("max-deactivations",), "30 > 25", clock.now())
    status.guard_reader = lambda: GuardState(hold, usage, "")
    status.refresh_guards()
    page = await render_status_page(status)
    assert "Hold #1" in page
    assert "full" in status.blocked
    status.guard_reader = lambda: GuardState(None, usage, "")
    status.refresh_guards()
    assert status.blocked == {}
    page = await render_status_page(status)
    assert HELD not in page
    assert BLOCKED not in page
