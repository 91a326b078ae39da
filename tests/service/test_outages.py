"""Outages logged as outages (QA finding): with Keycloak or the store down, the poller wrote a
warning every second, the operator-request loop one with the driver's message (SQL, hosts), and
nothing ever said the outage ended. Each repeating failure is now one line when it starts, one a
minute while it lasts, one when it ends."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import structlog

from offboard.ports import TemporaryError
from offboard.service.gate import PassGate
from offboard.service.leasing import Lease
from offboard.service.operator_requests import HandedActs
from offboard.service.outages import FailureStreak, describe
from tests.service.fakes import FakeClock, FakeStore
from tests.service.test_running import FAST, Rig


class OperationalError(Exception):
    """Named and placed like a database driver's error."""


OperationalError.__module__ = "sqlalchemy.exc"


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def events(logs: list[dict[str, object]]) -> list[object]:
    return [line["event"] for line in logs]


def test_a_streak_says_start_progress_and_end_once_each() -> None:
    ticks = Ticks()
    streak = FailureStreak("event poll", "check Keycloak", every=60, clock=ticks)
    with structlog.testing.capture_logs() as logs:
        for _ in range(150):  # two and a half minutes of one failure a second
            streak.failed(TemporaryError("Keycloak GET admin-events: ConnectError"))
            ticks.now += 1
        streak.succeeded()
        streak.succeeded()  # nothing more to say
    assert events(logs) == [
        "event poll failed",
        "event poll still failing",
        "event poll still failing",
        "event poll works again",
    ]
    assert logs[0]["what_to_do"] == "check Keycloak"
    assert logs[0]["log_level"] == "warning"
    assert logs[-1]["log_level"] == "info"
    assert logs[2]["failures"] == 121
    assert logs[-1]["failures"] == 150
    assert not streak.failing


def test_driver_messages_stay_out_of_the_log() -> None:
    error = OperationalError("INSERT INTO journal ... [parameters: ('ada@example.com',)]")
    assert describe(error) == "OperationalError from the store"
    assert describe(ValueError("secret-ish")) == "ValueError"
    assert describe(TemporaryError("Keycloak is unreachable")) == (
        "TemporaryError: Keycloak is unreachable"
    )


async def test_the_poller_logs_an_outage_once_and_its_end() -> None:
    rig = Rig()
    rig.lease.refresh()
    rig.source.fail = True
    with structlog.testing.capture_logs() as logs:
        for _ in range(30):
            await rig.daemon.poll_once()
        rig.source.fail = False
        await rig.daemon.poll_once()
    said = [e for e in events(logs) if str(e).startswith("event poll")]
    assert said == ["event poll failed", "event poll works again"]


async def test_a_standby_says_so_once_and_a_store_outage_once() -> None:
    store, clock = FakeStore(), FakeClock()
    leader = Lease(store, clock, holder="a", ttl=FAST.lease_ttl)
    standby = Lease(store, clock, holder="b", ttl=FAST.lease_ttl)
    leader.refresh()
    with structlog.testing.capture_logs() as logs:
        for _ in range(5):
            standby.refresh()
        store.fail_leases = True
        for _ in range(5):
            standby.refresh()
        store.fail_leases = False
        standby.refresh()
    assert events(logs) == [
        "standing by: another replica (or an offboard command) holds the lease",
        "lease renewal failed",
        "lease renewal works again",
        "standing by: another replica (or an offboard command) holds the lease",
    ]
    assert logs[1]["stepping_down"] is False


class FailingBook:
    """A request book whose store is down."""

    def __getattr__(self, name: str) -> object:
        def fail(*args: object) -> object:
            raise OperationalError("SELECT ... WHERE actor = 'ada@example.com'")

        return fail


async def test_operator_requests_log_the_store_outage_without_its_message() -> None:
    store, clock = FakeStore(), FakeClock()
    lease = Lease(store, clock, holder="a", ttl=FAST.lease_ttl)
    lease.refresh()
    sides = SimpleNamespace(clock=clock)
    acts = HandedActs(FailingBook(), sides, lease, None, tick=0.01)  # type: ignore[arg-type]
    stop = asyncio.Event()
    with structlog.testing.capture_logs() as logs:
        task = asyncio.create_task(acts.run(stop, PassGate()))
        await asyncio.sleep(0.3)
        store.fail_leases = True
        lease.refresh()  # stepped down: the loop stops asking the store, which is still down
        await asyncio.sleep(0.1)
        stop.set()
        await task
    said = [line for line in logs if str(line["event"]).startswith("operator requests")]
    assert [line["event"] for line in said] == ["operator requests failed"]
    assert said[0]["error"] == "OperationalError from the store"
    assert "ada@example.com" not in str(logs)
