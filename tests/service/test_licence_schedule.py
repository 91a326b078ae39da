"""The daily licence check: when it is due, catch-up after downtime, leader only, retry."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta

import pytest

from offboard.ports import TemporaryError
from offboard.service.gate import PassGate
from offboard.service.licence_schedule import DailyLicenceCheck, next_due

AT = time(6, 30)
DAY = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("last", "now", "due"),
    [
        (None, DAY.replace(hour=5), DAY.replace(hour=6, minute=30)),  # first: today's time
        (None, DAY.replace(hour=9), DAY.replace(hour=6, minute=30)),  # passed: due now
        (DAY.replace(hour=6, minute=31), DAY.replace(hour=9), DAY.replace(hour=6, minute=30)
         + timedelta(days=1)),  # done today: tomorrow
        (DAY.replace(hour=5), DAY.replace(hour=9), DAY.replace(hour=6, minute=30)),  # ran early
        (DAY - timedelta(days=3), DAY.replace(hour=9), DAY.replace(hour=6, minute=30)
         - timedelta(days=3)),  # down for days: long overdue, so one catch-up now
    ],
)  # fmt: skip
def test_next_due(last: datetime | None, now: datetime, due: datetime) -> None:
    assert next_due(last, now, AT) == due


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


async def _run_briefly(check: DailyLicenceCheck, leader: bool, seconds: float = 0.3) -> None:
    stopping = asyncio.Event()
    task = asyncio.create_task(check.run(stopping, lambda: leader, PassGate()))
    await asyncio.sleep(seconds)
    stopping.set()
    await asyncio.wait_for(task, 2)


async def test_a_due_check_runs_once_on_the_leader() -> None:
    done: list[datetime] = []
    clock = Clock(DAY.replace(hour=9))

    async def check() -> None:
        done.append(clock.now())

    daily = DailyLicenceCheck(check, lambda: done[-1] if done else None, AT, clock)
    await _run_briefly(daily, leader=True)
    assert done == [DAY.replace(hour=9)]


async def test_a_standby_never_runs_it() -> None:
    done: list[datetime] = []

    async def check() -> None:
        done.append(DAY)

    daily = DailyLicenceCheck(check, lambda: None, AT, Clock(DAY.replace(hour=9)))
    await _run_briefly(daily, leader=False)
    assert done == []


async def test_a_failed_check_waits_before_trying_again() -> None:
    calls = 0

    async def check() -> None:
        nonlocal calls
        calls += 1
        raise TemporaryError("Keycloak unreachable")

    daily = DailyLicenceCheck(check, lambda: None, AT, Clock(DAY.replace(hour=9)))
    await _run_briefly(daily, leader=True)
    assert calls == 1
