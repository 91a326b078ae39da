"""Per-user queues: one batch at a time per user, debounced, bounded, idle workers removed."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from offboard.core.identities import IdentityId
from offboard.intake.queues import UserQueues
from offboard.ports import IdentityEvent


def event(user: str, n: int) -> IdentityEvent:
    # Dated now, as a real event is: one dated before the person's last re-read is skipped.
    return IdentityEvent(IdentityId(user), f"{user}-{n}", datetime.now(UTC), "admin:USER:UPDATE")


class Recorder:
    def __init__(self, hold: float = 0.0) -> None:
        self.batches: list[tuple[str, list[str]]] = []
        self.active: set[str] = set()
        self.max_parallel = 0
        self.same_user_overlap = False
        self.hold = hold

    async def __call__(self, user: IdentityId, events: Sequence[IdentityEvent]) -> None:
        if user in self.active:
            self.same_user_overlap = True
        self.active.add(user)
        self.max_parallel = max(self.max_parallel, len(self.active))
        try:
            await asyncio.sleep(self.hold)
            self.batches.append((user, [e.event_id for e in events]))
        finally:
            self.active.discard(user)


async def test_a_burst_for_one_user_is_debounced_into_one_batch() -> None:
    recorder = Recorder()
    queues = UserQueues(recorder, debounce=0.05, idle_timeout=0.05)
    for n in range(5):
        queues.submit(event("u1", n))
    await queues.join()
    assert recorder.batches == [("u1", ["u1-0", "u1-1", "u1-2", "u1-3", "u1-4"])]


async def test_events_for_one_user_never_run_concurrently() -> None:
    recorder = Recorder(hold=0.05)
    queues = UserQueues(recorder, debounce=0.0, idle_timeout=0.05)
    queues.submit(event("u1", 0))
    await asyncio.sleep(0.02)  # the first batch is running now
    queues.submit(event("u1", 1))
    queues.submit(event("u1", 2))
    await queues.join()
    assert not recorder.same_user_overlap
    assert recorder.batches == [("u1", ["u1-0"]), ("u1", ["u1-1", "u1-2"])]


async def test_different_users_run_in_parallel_within_the_bound() -> None:
    recorder = Recorder(hold=0.05)
    queues = UserQueues(recorder, debounce=0.0, concurrency=3, idle_timeout=0.05)
    for n in range(10):
        queues.submit(event(f"u{n}", 0))
    await queues.join()
    assert recorder.max_parallel == 3
    assert sorted(user for user, _ in recorder.batches) == sorted(f"u{n}" for n in range(10))


async def test_idle_workers_are_removed() -> None:
    queues = UserQueues(Recorder(), debounce=0.0, idle_timeout=0.02)
    queues.submit(event("u1", 0))
    assert queues.active_workers == 1
    await asyncio.sleep(0.1)
    assert queues.active_workers == 0
    assert queues.backlog == 0


async def test_a_failing_handler_does_not_stop_the_user_queue() -> None:
    calls: list[str] = []

    async def flaky(user: IdentityId, events: Sequence[IdentityEvent]) -> None:
        calls.append(events[0].event_id)
        if len(calls) == 1:
            raise RuntimeError("transient")

    queues = UserQueues(flaky, debounce=0.0, idle_timeout=0.05)
    queues.submit(event("u1", 0))
    await asyncio.sleep(0.02)
    queues.submit(event("u1", 1))
    await queues.join()
    assert calls == ["u1-0", "u1-1"]


async def test_close_drains_queued_events_then_refuses_new_ones() -> None:
    recorder = Recorder(hold=0.02)
    queues = UserQueues(recorder, debounce=0.01, idle_timeout=5.0)
    queues.submit(event("u1", 0))
    queues.submit(event("u2", 0))
    await queues.close(drain=True)
    assert len(recorder.batches) == 2
    assert not queues.submit(event("u3", 0))
    assert queues.active_workers == 0


async def test_close_without_drain_cancels_the_workers() -> None:
    recorder = Recorder(hold=5.0)
    queues = UserQueues(recorder, debounce=0.0, idle_timeout=5.0)
    queues.submit(event("u1", 0))
    await asyncio.sleep(0.01)
    await queues.close(drain=False)
    assert recorder.batches == []
    assert queues.active_workers == 0
