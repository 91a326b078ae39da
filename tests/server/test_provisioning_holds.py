"""A provisioning hold on the status page and in the metrics, beside the deprovisioning one."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import generate_latest

from offboard.core.holds import Hold, WindowUsage
from offboard.server.console import ConsoleBackend
from offboard.server.console.attention_page import current
from offboard.server.metrics import Metrics, PrometheusTelemetry
from offboard.service.holds import GuardState
from offboard.service.status import DaemonStatus
from tests.server.conftest import LIMITS
from tests.service.fakes import FakeClock

USAGE = (WindowUsage("hour", timedelta(hours=1), 3, 25),)


def creates_hold(clock: FakeClock) -> Hold:
    return Hold(2, "provisioning-creates", ("provisioning-budget",), "10 > 10", clock.now())


async def test_the_page_shows_a_provisioning_hold_and_how_to_release_it() -> None:
    clock = FakeClock()
    status = DaemonStatus(clock)
    status.guard_reader = lambda: GuardState(None, USAGE, "", (creates_hold(clock),))
    page = await current(status, LIMITS, ConsoleBackend())
    assert page.count("data-testid='hold'") == 1  # no deprovisioning hold
    assert "Hold #2 on provisioning-creates" in page
    assert "offboard hold release --category provisioning-creates" in page


def test_metrics_say_which_category_is_held() -> None:
    clock = FakeClock()
    metrics = Metrics()
    PrometheusTelemetry(metrics).guard_state(GuardState(None, USAGE, "", (creates_hold(clock),)))
    text = generate_latest(metrics.registry).decode()
    assert 'offboard_category_hold_active{category="provisioning-creates"} 1.0' in text
    assert 'offboard_category_hold_active{category="deprovisioning"} 0.0' in text
    assert "offboard_hold_active 0.0" in text
