"""Under the rate limit, the urgent goes first: a credential about to expire or a daemon
that is not ready is not queued behind a day's worth of blocked people."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from offboard.core.plan import Entry, EntryStatus, Plan, Rule
from offboard.service.holds import GuardState
from offboard.service.passes import PassReport
from tests.service.fakes import FakeClock
from tests.service.test_notifying import (  # noqa: F401 - fixtures
    Daemonish,
    World,
    _base,
    certificate,
    settings_for,
    world,
)


async def test_an_expiring_key_is_told_before_a_flood_of_blocked_people(
    world: World,  # noqa: F811 - the fixture
    certificate: tuple[Path, Path],  # noqa: F811 - the fixture
) -> None:
    limited = settings_for(
        int(world.settings.notifications.email.smtp.port), certificate[0],
        _base(world), rate_limit=2, rate_period="1h",
    )  # fmt: skip
    process = Daemonish(world, FakeClock(datetime.now(UTC)), limited)
    now = process.clock.now()
    entries = tuple(  # an import left 40 people with a missing account
        Entry(EntryStatus.BLOCKED, Rule.LINKED_ACCOUNT_MISSING, "gone", identity_id=f"k{i}")
        for i in range(40)
    )
    process.status.record_pass(PassReport("full", now, now, True, plan=Plan(now, (), entries,
                               (), "f")), "full")  # fmt: skip
    process.status.record_guard_state(GuardState(None, (), ""))
    process.status.credential_expiry["atlassian.api_key"] = now.date() + timedelta(days=6)
    await process.notifications.check()
    slack = world.messages()["slack"]
    assert len(slack) == 2
    assert "atlassian.api_key expires on" in slack[0]
    await process.close()
