"""The daemon with fakes: start-up reconciliation, event re-checks, leases, guards, shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta

from offboard.intake.polling import ADMIN_EVENTS_CURSOR
from offboard.service.leasing import Lease
from offboard.service.running import Daemon, DaemonConfig
from offboard.service.status import DaemonStatus
from tests.service.fakes import FakeClock, FakePasses, FakeSource, FakeStore, hint

FAST = DaemonConfig(
    poll_interval=0.02,
    reconcile_interval=60.0,
    lease_ttl=timedelta(seconds=0.3),
    wave_linger=0.0,
    shutdown_grace=2.0,
)


class Rig:
    def __init__(self, store: FakeStore | None = None, holder: str = "a") -> None:
        self.clock = FakeClock()
        self.store = store or FakeStore()
        self.source = FakeSource()
        self.passes = FakePasses(self.clock)
        self.status = DaemonStatus(self.clock)
        self.lease = Lease(self.store, self.clock, holder=holder, ttl=FAST.lease_ttl)
        self.daemon = Daemon(
            self.passes, self.source, self.store, self.clock, self.status, self.lease, FAST
        )


async def eventually(check: Callable[[], bool], within: float = 2.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


@asynccontextmanager
async def running(rig: Rig) -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    task = asyncio.create_task(rig.daemon.run(stop))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


async def test_a_full_reconciliation_runs_at_start_then_events_trigger_rechecks() -> None:
    rig = Rig()
    async with running(rig):
        await eventually(lambda: rig.passes.fulls == 1)
        rig.source.add("u1", rig.clock.now())
        rig.clock.advance(2.0)
        await eventually(lambda: rig.passes.rechecks == ["u1"])
        await eventually(lambda: rig.status.latency().count == 1)
    assert rig.status.latency().max == 2.0
    assert rig.store.cursor(ADMIN_EVENTS_CURSOR) == "1"
    assert rig.status.leader is False  # stepped down on shutdown
    assert rig.store.lease_token("daemon", "a", rig.clock.now()) is None  # released it


async def test_a_webhook_hint_is_rechecked_like_an_event() -> None:
    rig = Rig()
    async with running(rig):
        await eventually(lambda: rig.lease.held)
        assert rig.daemon.submit(hint("u9", rig.clock.now()))
        await eventually(lambda: "u9" in rig.passes.rechecks)


async def test_a_standby_replica_neither_reconciles_nor_takes_events() -> None:
    store = FakeStore()
    leader, standby = Rig(store, "a"), Rig(store, "b")
    async with running(leader):
        await eventually(lambda: leader.passes.fulls == 1)
        async with running(standby):
            standby.source.add("u1", standby.clock.now())
            await asyncio.sleep(0.2)
            assert standby.passes.fulls == 0
            assert standby.passes.rechecks == []
            assert not standby.daemon.submit(standby.source.events[0])
            # A healthy standby is ready (Kubernetes would otherwise read it as broken);
            # leadership is told apart.
            assert standby.status.not_ready_reasons(_limits()) == []
            assert not standby.status.leader


async def test_the_standby_takes_over_when_the_leader_stops() -> None:
    store = FakeStore()
    leader, standby = Rig(store, "a"), Rig(store, "b")
    stop_leader = asyncio.Event()
    leader_task = asyncio.create_task(leader.daemon.run(stop_leader))
    await eventually(lambda: leader.lease.held)
    async with running(standby):
        await asyncio.sleep(0.2)
        assert not standby.lease.held
        stop_leader.set()
        await asyncio.wait_for(leader_task, 5)
        # The leader released its lease on shutdown: the standby takes over and reconciles.
        await eventually(lambda: standby.lease.held and standby.passes.fulls == 1)


async def test_a_guard_blocks_the_plan_visibly_and_the_daemon_keeps_running() -> None:
    rig = Rig()
    rig.passes.block = True
    async with running(rig):
        await eventually(lambda: "full" in rig.status.blocked)
        assert rig.status.blocked["full"].guards == ("max-deactivations",)
        rig.passes.block = False
        rig.source.add("u1", rig.clock.now())
        await eventually(lambda: rig.passes.rechecks == ["u1"])
        assert "full" in rig.status.blocked  # a passing re-check does not clear a full block
        await rig.daemon.reconcile_once()
        assert rig.status.blocked == {}


async def test_a_failing_reconciliation_is_recorded_without_its_message_leaking() -> None:
    rig = Rig()
    rig.passes.fail = True
    async with running(rig):
        await eventually(lambda: rig.status.last_full is not None)
    last = rig.status.last_full
    assert last is not None
    assert not last.complete
    assert last.problems == ("RuntimeError",)


async def test_shutdown_lets_the_recheck_in_flight_finish() -> None:
    rig = Rig()
    rig.passes.delay = 0.3
    stop = asyncio.Event()
    task = asyncio.create_task(rig.daemon.run(stop))
    await eventually(lambda: rig.passes.fulls == 1)
    assert rig.daemon.submit(hint("u1", rig.clock.now()))
    await eventually(lambda: "u1" in rig.passes.running)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert rig.status.latency().count == 1  # the re-check finished and was recorded
    assert not rig.daemon.submit(rig.source.add("u2", rig.clock.now()))
    assert rig.store.lease_token("daemon", "a", rig.clock.now()) is None


async def test_a_lost_lease_stops_the_replica_from_acting() -> None:
    rig = Rig()
    async with running(rig):
        await eventually(lambda: rig.lease.held)
        rig.store.fail_leases = True
        await eventually(lambda: not rig.lease.held)
        assert not rig.daemon.submit(rig.source.add("u1", rig.clock.now()))
        # Without the store, it could not take over either: not ready.
        rig.clock.advance(31)
        await eventually(lambda: bool(rig.status.not_ready_reasons(_limits())))
        assert "store" in " ".join(rig.status.not_ready_reasons(_limits()))


async def test_a_leader_that_retakes_its_own_expired_lease_reconciles_again() -> None:
    # Paused past its lease (SIGSTOP) with no standby quick enough, the leader wakes and
    # takes its own lease back under a new fence: the pass it had in flight is refused at
    # its next write, so what it meant to do is done only by a new full pass, now.
    rig = Rig()
    async with running(rig):
        await eventually(lambda: rig.passes.fulls == 1)
        first = rig.lease.fence
        rig.clock.advance(1.0)  # past the 0.3 s ttl: the next renewal is a take-over
        await eventually(lambda: rig.lease.fence != first)
        assert rig.lease.held
        await eventually(lambda: rig.passes.fulls == 2)  # not after reconcile_interval (60 s)


def _limits() -> dict[str, timedelta]:
    return {
        "store": timedelta(seconds=30),
        "reconcile": timedelta(minutes=30),
        "vendor": timedelta(minutes=5),
    }


async def test_a_backlog_overflow_starts_a_full_reconciliation_at_once() -> None:
    rig = Rig()
    rig.daemon = Daemon(
        rig.passes,
        rig.source,
        rig.store,
        rig.clock,
        rig.status,
        rig.lease,
        replace(FAST, max_backlog=3),
    )
    rig.passes.delay = 0.2  # re-checks stay queued while the flood arrives
    async with running(rig):
        await eventually(lambda: rig.passes.fulls == 1)
        for n in range(10):
            rig.daemon.submit(hint(f"u{n}", rig.clock.now(), f"w{n}"))
        await eventually(lambda: rig.passes.fulls == 2)  # not after reconcile_interval (60 s)
    assert rig.daemon.queues.overflows == 7
