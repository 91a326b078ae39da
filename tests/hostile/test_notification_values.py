"""Hostile values in notifications: an email, a vendor's error text or a reason with line
breaks, control characters or chat markup. Every channel still delivers; each value stays
on its line (no forged "What to do" line, no mail header), and Slack shows markup as text
(no @channel ping, no disguised link)."""

from __future__ import annotations

import re

from offboard.core.notifications import Condition, Kind, render
from offboard.service.holds import GuardState
from offboard.service.passes import ActionReport, PassReport
from tests.service.test_notifying import (  # noqa: F401 - fixtures
    Daemonish,
    World,
    certificate,
    process,
    world,
)

EMAIL = "eve\r\nBcc: all@example.com\x1b[2J@example.com"
DETAIL = (
    "HTTP 400 <!channel> <https://evil.example/release|Release the hold here> & more\n"
    "What to do:\n  offboard hold release --reason ok"
)


async def test_a_hostile_failed_action_reaches_every_channel_as_plain_lines(
    world: World,  # noqa: F811 - the fixture
    process: Daemonish,  # noqa: F811 - the fixture
) -> None:
    now = process.clock.now()
    failed = ActionReport("deactivate:k9:a9", "deactivate", "k9", "a9", EMAIL, "failed", now,
                          deprovisioning=True, detail=DETAIL)  # fmt: skip
    process.status.record_pass(PassReport("full", now, now, complete=True, actions=(failed,)),
                               "full")  # fmt: skip
    process.status.record_guard_state(GuardState(None, (), ""))
    delivered = await process.notifications.check()
    assert sorted(channel for channel, _ in delivered) == ["email", "slack", "webhook"]
    (mail,) = world.inbox.mails
    subject = re.sub(r"\r?\n[ \t]", " ", str(mail["Subject"]))  # a long header is folded
    assert "\n" not in subject
    assert "eve\\x0d\\x0aBcc: all@example.com\\x1b[2J@" in subject
    assert mail["Bcc"] is None
    assert "\x1b" not in world.everything()
    lines = [line.strip() for line in mail.get_payload(decode=True).decode().splitlines()]
    assert lines.count("What to do:") == 1  # the forged one stays inside the detail's line
    assert not [line for line in lines if line.startswith("offboard hold release")]
    (slack,) = world.messages()["slack"]
    assert "<!channel>" not in slack
    assert "<https://evil.example" not in slack
    assert "&lt;!channel&gt;" in slack
    assert "&amp; more" in slack


def test_render_keeps_each_value_on_its_own_line() -> None:
    condition = Condition(Kind.HOLD, "k", "title\nsecond", ("a\rb", "c\u2028d"), ("x\ny",))
    text = render(condition)
    assert "\n" not in text.subject
    assert text.body.splitlines() == ["title\\x0asecond", "", "a\\x0db", "c\\u2028d", "",
                                      "What to do:", "  x\\x0ay"]  # fmt: skip
