"""The daemon forgets what is past ``store.retention``: on the leader only, in batches, off
the event loop, and a failure never stops it."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timedelta

from offboard.service.pruning import StorePruning
from offboard.service.running import Daemon
from offboard.store.retention import Pruned
from tests.service.fakes import FakeClock, FakeStore
from tests.service.test_running import FAST, Rig, eventually, running

RETENTION = timedelta(days=30)


class Steps:
    """A store's ``prune_step``: ``left`` batches of runs, then nothing."""

    def __init__(self, left: int = 3, fail: bool = False) -> None:
        self.left = left
        self.fail = fail
        self.asked: list[tuple[datetime, datetime]] = []
        self.threads: set[int] = set()

    def __call__(self, cutoff: datetime, now: datetime) -> Pruned:
        self.asked.append((cutoff, now))
        self.threads.add(threading.get_ident())
        if self.fail:
            raise RuntimeError("the store went away")
        if not self.left:
            return Pruned()
        self.left -= 1
        return Pruned(runs=500, plans=500)


def _pruning(steps: Steps, clock: FakeClock) -> StorePruning:
    return StorePruning(steps, RETENTION, clock, every=0.05, first_after=0.0, pause=0.0)


def _daemon(rig: Rig, pruning: StorePruning) -> Daemon:
    return Daemon(rig.passes, rig.source, rig.store, rig.clock, rig.status, rig.lease, FAST,
                  pruning=pruning)  # fmt: skip


async def test_the_leader_prunes_batch_after_batch_off_the_event_loop() -> None:
    rig, steps = Rig(), Steps(left=3)
    rig.daemon = _daemon(rig, _pruning(steps, rig.clock))
    async with running(rig):
        await eventually(lambda: len(steps.asked) >= 4)
    assert steps.left == 0
    assert steps.asked[0] == (rig.clock.now() - RETENTION, rig.clock.now())
    assert threading.get_ident() not in steps.threads  # never on the loop's thread


async def test_a_standby_never_prunes() -> None:
    store = FakeStore()
    leader, standby = Rig(store, "a"), Rig(store, "b")
    steps = Steps()
    standby.daemon = _daemon(standby, _pruning(steps, standby.clock))
    async with running(leader):
        await eventually(lambda: leader.lease.held)
        async with running(standby):
            await asyncio.sleep(0.3)
    assert steps.asked == []


async def test_a_failing_prune_is_retried_later_and_the_daemon_goes_on() -> None:
    rig, steps = Rig(), Steps(fail=True)
    rig.daemon = _daemon(rig, _pruning(steps, rig.clock))
    async with running(rig):
        await eventually(lambda: len(steps.asked) >= 2)  # tried again at the next round
        await eventually(lambda: rig.passes.fulls >= 1)


async def test_a_prune_stops_between_batches_when_leadership_is_lost() -> None:
    clock, steps = FakeClock(), Steps(left=10)
    leading = [True, True, False]
    pruning = _pruning(steps, clock)
    pruned = await pruning.once(lambda: leading.pop(0) if leading else False)
    assert pruned == Pruned(runs=1000, plans=1000)
    assert steps.left == 8
