"""An import leaves 30 people blocked at once: the humans on email and chat get one message
that lists them, not 30 messages dripping over the day; the signed webhook still gets one
per condition (a receiver opens one ticket each). Nothing is sent twice afterwards."""

from __future__ import annotations

from offboard.core.plan import Entry, EntryStatus, Plan, Rule
from offboard.service.holds import GuardState
from offboard.service.passes import PassReport
from tests.service.test_notifying import (  # noqa: F401 - fixtures
    Daemonish,
    World,
    certificate,
    process,
    world,
)


def blocked(daemon: Daemonish, count: int) -> None:
    now = daemon.clock.now()
    entries = tuple(
        Entry(EntryStatus.BLOCKED, Rule.LINKED_ACCOUNT_MISSING, "gone", f"k{i}", None, f"p{i}@x.y")
        for i in range(count)
    )
    plan = Plan(now, (), entries, (), "f")
    daemon.status.record_pass(PassReport("full", now, now, True, plan=plan), "full")
    daemon.status.record_guard_state(GuardState(None, (), ""))


async def test_many_blocked_people_are_one_message_for_humans(
    world: World,  # noqa: F811 - the fixture
    process: Daemonish,  # noqa: F811 - the fixture
) -> None:
    blocked(process, 30)
    delivered = await process.notifications.check()
    messages = world.messages()
    assert len(messages["email"]) == 1
    assert len(messages["slack"]) == 1
    assert len(messages["webhook"]) == 20  # one each, within its rate limit (20 an hour)
    text = messages["slack"][0]
    assert "30 people wait for a human" in text
    assert "p0@x.y waits for a human (linked-account-missing)" in text
    assert "and 10 more" in text
    assert "offboard links remove KEYCLOAK_ID" in text
    assert len([k for c, k in delivered if c == "email"]) == 30  # each condition is told
    process.clock.advance(60)
    blocked(process, 30)
    assert await process.notifications.check() == []


async def test_a_few_blocked_people_are_a_message_each(
    world: World,  # noqa: F811 - the fixture
    process: Daemonish,  # noqa: F811 - the fixture
) -> None:
    blocked(process, 3)
    await process.notifications.check()
    assert len(world.messages()["slack"]) == 3
