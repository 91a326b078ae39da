"""The daily digest keeps to each channel's kinds: a chat channel configured for holds only
(to keep people's emails out of it) is not sent every blocked person once a day."""

from __future__ import annotations

from datetime import UTC, datetime
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
    hold,
    settings_for,
    world,
)

SECRET_PERSON = "quiet.person@example.com"


async def test_the_digest_lists_to_each_channel_only_the_kinds_it_wants(
    world: World,  # noqa: F811 - the fixture
    certificate: tuple[Path, Path],  # noqa: F811 - the fixture
) -> None:
    settings = settings_for(
        int(world.settings.notifications.email.smtp.port), certificate[0], _base(world),
        digest_at="08:00", slack={"url": _base(world) + "/services/T000/B000/slack-token-4b1e8a",
                                  "kinds": ["hold"]},
    )  # fmt: skip
    clock = FakeClock(datetime(2026, 12, 1, 7, 59, tzinfo=UTC))
    process = Daemonish(world, clock, settings)
    entry = Entry(EntryStatus.BLOCKED, Rule.AMBIGUOUS_IDENTITIES,
                  f"two users share {SECRET_PERSON}", identity_id="k1",
                  email=SECRET_PERSON)  # fmt: skip
    for step in (0, 120):
        clock.advance(step)
        now = clock.now()
        plan = Plan(now, (), (entry,), (), "f")
        process.status.record_pass(PassReport("full", now, now, complete=True, plan=plan), "full")
        process.status.record_guard_state(GuardState(hold(), (), ""))
        await process.notifications.check()
    slack = world.messages()["slack"]
    assert len(slack) == 2  # the hold at once, then the digest at 08:00
    assert "[hold]" in slack[1]
    assert SECRET_PERSON not in "\n".join(slack)
    mails = world.messages()["email"]
    assert any("2 thing(s) need a human" in m and SECRET_PERSON in m for m in mails)
    await process.close()
