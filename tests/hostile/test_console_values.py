"""Hostile values on the console's pages: a bidi override, a zero-width joiner or a terminal
escape in a name, an email or a message is shown as its escape (as the command line and the
licence page show it), never applied: a right-to-left override must not make one person's
email read as another's. Form fields still post back the value itself."""

from __future__ import annotations

import re

from offboard.core.holds import Hold, Waiting
from offboard.server.console.layout import hidden
from offboard.service.holds import GuardState
from tests.server.console.test_attention import USAGE, healthy, read
from tests.service.fakes import FakeClock

SPOOFED = "\u202emoc.elpmaxe@eve"  # reads as "eve@example.com" once reversed
INVISIBLE = ("\u202e", "\u200d", "\x1b", "\u2028")


async def test_invisible_characters_are_shown_not_applied() -> None:
    clock = FakeClock()
    status = healthy(clock)
    message = "budget spent\x1b[2J by \u200dsomeone\u2028else"
    waiting = (Waiting("deactivate:k1:a1", "deactivate", "k1", "a1", SPOOFED, clock.now()),)
    hold = Hold(3, "deprovisioning", ("deprovisioning-budget",), message, clock.now(), waiting)
    status.guard_reader = lambda: GuardState(hold, USAGE, "")
    document, page = await read(status)
    for character in INVISIBLE:
        assert character not in page, repr(character)
    assert "\\u202emoc.elpmaxe@eve" in page
    assert "budget spent\\x1b[2J by \\u200dsomeone\\u2028else" in page
    assert document["attention"][0]["people"][0]["email"] == SPOOFED  # type: ignore[index]
    # the release form posts back the hold's own id and category, untouched
    assert re.search(r"name='hold_id' value='3'", page)


def test_a_form_field_posts_back_the_value_itself() -> None:
    assert hidden("email", SPOOFED) == f"<input type='hidden' name='email' value='{SPOOFED}'>"
