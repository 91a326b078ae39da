"""Waves: a burst of events becomes one batch of people; later events form the next one."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from offboard.core.identities import IdentityId
from offboard.intake.waves import Wave, WaveOutcome, WaveQueues
from offboard.ports import IdentityEvent


def event(user: str, n: int = 0, kind: str = "admin:USER:UPDATE") -> IdentityEvent:
    # Dated now, as a real event is: one dated before the person's last re-read is skipped.
    return IdentityEvent(IdentityId(user), f"{user}-{n}", datetime.now(UTC), kind)


class Handler:
    """Records each wave; settles everyone except the people told to fail."""

    def __init__(self, hold: float = 0.0, failing: dict[str, int] | None = None) -> None:
        self.waves: list[list[str]] = []
        self.hold = hold
        self.failing = dict(failing or {})
        """Person → how many more waves their read fails in."""
        self.in_flight: set[str] = set()
        self.overlap = False

    async def __call__(self, wave: Wave) -> WaveOutcome:
        if self.in_flight & set(wave):
            self.overlap = True
        self.in_flight |= set(wave)
        self.waves.append(list(wave))
        try:
            await asyncio.sleep(self.hold)
        finally:
            self.in_flight -= set(wave)
        retry = {key for key in wave if self.failing.get(key, 0) > 0}
        for key in retry:
            self.failing[key] -= 1
        return WaveOutcome(settled=frozenset(set(wave) - retry), retry=frozenset(retry))


async def test_a_burst_of_30_events_becomes_one_wave_of_30_people() -> None:
    handler = Handler()
    queues = WaveQueues(handler, linger=0.05)
    for n in range(30):
        queues.submit(event(f"u{n:02d}"))
    await queues.join()
    assert handler.waves == [[f"u{n:02d}" for n in range(30)]]
    assert queues.sizes == [30]


async def test_events_spread_within_the_linger_join_the_same_wave() -> None:
    handler = Handler()
    queues = WaveQueues(handler, linger=0.2)
    for n in range(5):
        queues.submit(event(f"u{n}"))
        await asyncio.sleep(0.02)
    await queues.join()
    assert handler.waves == [["u0", "u1", "u2", "u3", "u4"]]


async def test_events_arriving_while_a_wave_runs_form_the_next_wave() -> None:
    handler = Handler(hold=0.1)
    queues = WaveQueues(handler, linger=0.0, concurrency=1)
    queues.submit(event("a"))
    await asyncio.sleep(0.03)  # the first wave is running now
    for user in ("b", "c", "a"):
        queues.submit(event(user, 1))
    await queues.join()
    assert handler.waves == [["a"], ["b", "c", "a"]]
    assert not handler.overlap


async def test_one_person_is_never_in_two_waves_at_once() -> None:
    handler = Handler(hold=0.1)
    queues = WaveQueues(handler, linger=0.0, concurrency=4)
    queues.submit(event("a"))
    await asyncio.sleep(0.03)
    queues.submit(event("a", 1))
    queues.submit(event("b", 1))
    await queues.join()
    assert not handler.overlap
    assert handler.waves == [["a"], ["b"], ["a"]]


async def test_the_cap_splits_a_large_burst_into_waves_of_at_most_max_wave() -> None:
    handler = Handler()
    queues = WaveQueues(handler, linger=0.05, max_wave=40, concurrency=1)
    for n in range(100):
        queues.submit(event(f"u{n:03d}"))
    await queues.join()
    assert queues.sizes == [40, 40, 20]
    assert [p for wave in handler.waves for p in wave] == [f"u{n:03d}" for n in range(100)]


async def test_a_full_wave_goes_without_waiting_out_the_linger() -> None:
    handler = Handler()
    queues = WaveQueues(handler, linger=5.0, max_wave=3)
    for n in range(3):
        queues.submit(event(f"u{n}"))
    await asyncio.wait_for(queues.join(), 1.0)
    assert queues.sizes == [3]


async def test_departures_fill_a_wave_before_other_events() -> None:
    handler = Handler()
    queues = WaveQueues(handler, linger=0.05, max_wave=2, concurrency=1)
    queues.submit(event("profile", kind="admin:USER:UPDATE_PROFILE"))
    queues.submit(event("update", kind="admin:USER:UPDATE"))
    queues.submit(event("deleted", kind="admin:USER:DELETE"))
    queues.submit(event("locked", kind="USER_DISABLED_BY_TEMPORARY_LOCKOUT"))
    await queues.join()
    assert handler.waves == [["deleted", "locked"], ["update", "profile"]]


async def test_a_person_not_read_is_retried_and_the_others_are_not() -> None:
    handler = Handler(failing={"b": 1})
    queues = WaveQueues(handler, linger=0.0, retry_delay=0.05)
    for user in ("a", "b", "c"):
        queues.submit(event(user))
    await queues.join()
    assert handler.waves == [["a", "b", "c"], ["b"]]


async def test_retries_stop_after_max_attempts() -> None:
    handler = Handler(failing={"b": 10})
    queues = WaveQueues(handler, linger=0.0, retry_delay=0.01, max_attempts=2)
    queues.submit(event("b"))
    await queues.join()
    assert handler.waves == [["b"], ["b"], ["b"]]


async def test_a_failing_handler_keeps_everyone_for_a_retry() -> None:
    calls: list[list[str]] = []

    async def broken(wave: Wave) -> WaveOutcome:
        calls.append(list(wave))
        if len(calls) == 1:
            raise RuntimeError("boom")
        return WaveOutcome(settled=frozenset(wave))

    queues = WaveQueues(broken, linger=0.0, retry_delay=0.01)
    queues.submit(event("a"))
    queues.submit(event("b"))
    await queues.join()
    assert calls == [["a", "b"], ["a", "b"]]


async def test_people_read_after_their_events_are_skipped() -> None:
    handler = Handler()
    queues = WaveQueues(handler, linger=0.0)
    old = IdentityEvent(IdentityId("a"), "a-old", datetime(2020, 1, 1, tzinfo=UTC), "x")
    queues.ledger.reread_everyone(datetime.now(UTC))
    queues.submit(old)
    queues.submit(event("b"))
    await queues.join()
    assert handler.waves == [["b"]]
    assert queues.ledger.skipped == 1


async def test_a_full_backlog_drops_new_people_and_asks_for_a_full_pass() -> None:
    asked: list[int] = []
    release = asyncio.Event()

    async def stuck(wave: Wave) -> WaveOutcome:
        await release.wait()
        return WaveOutcome(settled=frozenset(wave))

    queues = WaveQueues(stuck, linger=0.0, max_backlog=3, on_overflow=lambda: asked.append(1))
    for n in range(5):
        queues.submit(event(f"u{n}"))
    queues.submit(event("deleted", kind="admin:USER:DELETE"))  # departures get twice the room
    assert queues.overflows == 2
    assert len(asked) == 2
    release.set()
    await queues.join()


async def test_close_with_drain_hands_on_what_is_queued_and_refuses_more() -> None:
    handler = Handler()
    queues = WaveQueues(handler, linger=1.0)
    queues.submit(event("a"))
    await queues.close(drain=True)
    assert handler.waves == [["a"]]
    assert queues.submit(event("b")) is False


def test_the_cap_and_concurrency_must_be_positive() -> None:
    async def handler(wave: Wave) -> WaveOutcome:
        return WaveOutcome()

    with pytest.raises(ValueError, match="at least 1"):
        WaveQueues(handler, max_wave=0)


async def test_waves_run_in_parallel_within_the_bound() -> None:
    handler = Handler(hold=0.05)
    running: list[int] = []

    async def counting(wave: Wave) -> WaveOutcome:
        running.append(len(handler.in_flight) + 1)
        return await handler(wave)

    queues = WaveQueues(counting, linger=0.0, max_wave=1, concurrency=3)
    for n in range(9):
        queues.submit(event(f"u{n}"))
    await queues.join()
    assert max(running) == 3
    assert sorted(p for wave in handler.waves for p in wave) == [f"u{n}" for n in range(9)]


async def test_a_person_keeps_at_most_32_events_and_departures_twice_that() -> None:
    handler = Handler()
    seen: list[int] = []

    async def sizes(wave: Wave) -> WaveOutcome:
        seen.extend(len(events) for events in wave.values())
        return await handler(wave)

    queues = WaveQueues(sizes, linger=0.05)
    for n in range(100):
        queues.submit(event("routine", n))
        queues.submit(event("leaver", n, kind="admin:USER:DELETE"))
    await queues.join()
    assert sorted(seen) == [32, 64]


async def test_close_without_drain_cancels_the_waves() -> None:
    handler = Handler(hold=5.0)
    queues = WaveQueues(handler, linger=0.0)
    queues.submit(event("a"))
    await asyncio.sleep(0.02)
    await asyncio.wait_for(queues.close(drain=False), 1.0)
    assert handler.waves == [["a"]]
    assert queues.active_workers == 0


async def test_a_burst_starts_with_a_small_wave_then_doubles_up_to_the_cap() -> None:
    """The first wave is planned quickly and starts the sends; the next ones, planned while
    it sends, grow with the people in flight up to ``max_wave`` (issue 18)."""
    handler = Handler(hold=0.2)
    queues = WaveQueues(handler, linger=0.05, max_wave=100, first_wave=10, concurrency=4)
    for n in range(300):
        queues.submit(event(f"p{n}", n))
    await queues.join()
    assert queues.sizes[:4] == [10, 20, 60, 100]
    assert sum(queues.sizes) == 300
    assert max(queues.sizes) == 100


async def test_a_burst_below_the_first_wave_is_one_wave() -> None:
    handler = Handler()
    queues = WaveQueues(handler, linger=0.05, first_wave=50)
    for n in range(30):
        queues.submit(event(f"p{n}", n))
    await queues.join()
    assert queues.sizes == [30]
