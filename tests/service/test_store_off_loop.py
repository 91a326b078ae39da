"""The daemon's loops ask the store off the event loop (QA finding).

The lease loop and the poller's cursor called the store on the event loop: a PostgreSQL that
hangs (a dropped network path: a connect waits for the kernel, minutes) froze the whole
process, listeners and probes included. Each test holds the store call until the test itself
releases it: if the call ran on the loop, the test could not run to release it, and the call
would give up on its own after a few seconds (``timed_out``).
"""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timedelta

from tests.service.fakes import FakeStore
from tests.service.test_running import FAST, Rig, eventually, running


class HangingStore(FakeStore):
    """A store whose lease or cursor calls wait until released (or give up after 3 s)."""

    def __init__(self, hang: str) -> None:
        super().__init__()
        self.hang = hang
        self.entered = threading.Event()
        self.go = threading.Event()
        self.timed_out = False

    def _wait(self, what: str) -> None:
        if what != self.hang or self.go.is_set():
            return
        self.entered.set()
        if not self.go.wait(timeout=3):
            self.timed_out = True

    def acquire_lease(self, name: str, holder: str, ttl: timedelta, now: datetime) -> bool:
        self._wait("lease")
        return super().acquire_lease(name, holder, ttl, now)

    def cursor(self, name: str) -> str | None:
        self._wait("cursor")
        return super().cursor(name)


async def released_while_hanging(store: HangingStore) -> None:
    assert await asyncio.to_thread(store.entered.wait, 5), "the store was never asked"
    await asyncio.sleep(0.05)  # the loop still runs other work meanwhile
    store.go.set()


async def test_a_hanging_lease_call_leaves_the_loop_running() -> None:
    store = HangingStore("lease")
    rig = Rig(store)
    async with running(rig):
        await released_while_hanging(store)
    assert not store.timed_out


async def test_a_hanging_cursor_read_leaves_the_loop_running() -> None:
    store = HangingStore("cursor")
    rig = Rig(store)
    rig.lease.refresh()  # already leading: the poller runs
    await asyncio.wait_for(
        asyncio.gather(rig.daemon.poll_once(), released_while_hanging(store)), 10
    )
    assert not store.timed_out


async def test_the_lease_is_renewed_while_the_shared_thread_pool_is_busy() -> None:
    """Journal writes, fence checks and mail go through the loop's shared pool (a few
    threads); the lease has a thread of its own, so a busy pool never delays a renewal."""
    store = CountingStore()
    rig = Rig(store)
    release = threading.Event()
    async with running(rig):
        await eventually(lambda: rig.lease.held)
        tasks = [asyncio.ensure_future(asyncio.to_thread(release.wait, 5)) for _ in range(64)]
        before = store.renewals
        await asyncio.sleep(3 * FAST.lease_ttl.total_seconds())  # about nine renewals due
        renewed = store.renewals - before
        release.set()
        await asyncio.gather(*tasks)
    assert renewed >= 3


class CountingStore(FakeStore):
    def __init__(self) -> None:
        super().__init__()
        self.renewals = 0

    def acquire_lease(self, name: str, holder: str, ttl: timedelta, now: datetime) -> bool:
        self.renewals += 1
        return super().acquire_lease(name, holder, ttl, now)
