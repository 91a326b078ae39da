"""Rate-limit pauses are bounded, logged and reported (issue 12, point 9)."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from offboard.adapters.http import RateLimiter


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def test_a_far_reset_is_capped_logged_and_reported() -> None:
    fake = FakeTime()
    seen: list[tuple[float, float]] = []
    limiter = RateLimiter(
        10, burst=1, clock=fake.clock, sleep=fake.sleep, max_pause=30,
        on_pause=lambda asked, applied: seen.append((asked, applied)),
    )  # fmt: skip
    with capture_logs() as logs:
        limiter.observe({"retry-after": "3600"}, status=429)
    await limiter.acquire()
    assert fake.now == pytest.approx(30)
    assert seen == [(3600, 30)]
    assert limiter.pauses == 1
    assert limiter.paused_seconds == 30
    [line] = [entry for entry in logs if entry["log_level"] == "warning"]
    assert line["capped"] is True
    assert line["asked_seconds"] == 3600


async def test_a_short_pause_is_kept_as_asked() -> None:
    fake = FakeTime()
    seen: list[tuple[float, float]] = []
    limiter = RateLimiter(
        10, clock=fake.clock, sleep=fake.sleep,
        on_pause=lambda asked, applied: seen.append((asked, applied)),
    )  # fmt: skip
    limiter.observe({"retry-after": "5"}, status=429)
    await limiter.acquire()
    assert fake.now == pytest.approx(5)
    assert seen == [(5, 5)]


def test_the_maximum_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_pause"):
        RateLimiter(10, max_pause=0)


def test_a_storm_of_429s_is_one_pause_report() -> None:
    fake = FakeTime()
    seen: list[tuple[float, float]] = []
    limiter = RateLimiter(
        10, clock=fake.clock, sleep=fake.sleep,
        on_pause=lambda asked, applied: seen.append((asked, applied)),
    )  # fmt: skip
    for _ in range(20):
        limiter.observe({"retry-after": "5"}, status=429)
    assert seen == [(5, 5)]
