"""A hold over ten thousand people (a directory glitch disabling everyone is what holds are
for): the page names the first few and counts the rest, instead of a table of 10,000 rows
reloaded every 15 seconds."""

from __future__ import annotations

from offboard.core.holds import Hold, Waiting
from offboard.service.holds import GuardState
from tests.server.console.test_attention import USAGE, healthy, read
from tests.service.fakes import FakeClock


async def test_a_hold_over_ten_thousand_people_is_a_page_of_a_normal_size() -> None:
    clock = FakeClock()
    status, now = healthy(clock), clock.now()
    waiting = tuple(
        Waiting(f"deactivate:k{i}:a{i}", "deactivate", f"k{i}", f"a{i}", f"p{i}@x.example", now)
        for i in range(10_000)
    )
    hold = Hold(3, "deprovisioning", ("deprovisioning-budget",), "glitch", clock.now(), waiting)
    status.guard_reader = lambda: GuardState(hold, USAGE, "")
    document, page = await read(status)
    assert len(page) < 100_000, len(page)
    assert "Hold #3 on deprovisioning: 10000 waiting" in page
    assert page.count("data-testid='waiting'") == 50
    assert "and 9950 more" in page
    assert "offboard hold show" in page
    (item,) = document["attention"]  # type: ignore[misc]
    assert item["hold"]["waiting"] == 10_000
    assert len(item["people"]) == 50
    assert item["people_more"] == 9_950


async def test_a_hold_over_a_few_people_lists_them_all() -> None:
    clock = FakeClock()
    status = healthy(clock)
    waiting = tuple(Waiting(f"deactivate:k{i}:a{i}", "deactivate", f"k{i}", f"a{i}",
                            f"p{i}@example.com", clock.now()) for i in range(3))  # fmt: skip
    hold = Hold(3, "deprovisioning", ("deprovisioning-budget",), "budget", clock.now(), waiting)
    status.guard_reader = lambda: GuardState(hold, USAGE, "")
    document, page = await read(status)
    assert page.count("data-testid='waiting'") == 3
    assert "more" not in page.split("data-kind='hold'")[1].split("</section>")[0]
    (item,) = document["attention"]  # type: ignore[misc]
    assert "people_more" not in item
