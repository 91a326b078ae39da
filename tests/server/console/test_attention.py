"""The attention list and /status.json: green only when truly nothing waits, and each
kind of trouble named with what to do (the daemon's status alone, no vendors)."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from offboard.core.holds import Hold, Waiting, WindowUsage
from offboard.server.app import create_app
from offboard.server.console import ConsoleBackend
from offboard.server.metrics import Metrics
from offboard.service.holds import GuardState
from offboard.service.status import STORE, DaemonStatus
from tests.server.conftest import LIMITS
from tests.server.console.conftest import ADA
from tests.server.login_helpers import console_login, session_store
from tests.service.fakes import FakeClock

USAGE = (WindowUsage("hour", timedelta(hours=1), 0, 25),)


def healthy(clock: FakeClock) -> DaemonStatus:
    status = DaemonStatus(clock)
    status.vendor_reachable(STORE, True, clock.now())
    status.guard_reader = lambda: GuardState(None, USAGE, "")
    return status


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def read(
    status: DaemonStatus, backend: ConsoleBackend | None = None
) -> tuple[dict[str, object], str]:
    """``/status.json`` and ``/`` as an operator sees them."""
    with tempfile.TemporaryDirectory() as folder:
        sessions = session_store(Path(folder))
        try:
            login = console_login(sessions)
            app = create_app(status, Metrics(), readiness_limits=LIMITS, console=backend,
                             login=login)  # fmt: skip
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://console", cookies=login.open_session(ADA)
            ) as client:
                return (await client.get("/status.json")).json(), (await client.get("/")).text
        finally:
            sessions.close()


def kinds(document: dict[str, object]) -> list[str]:
    items = document["attention"]
    assert isinstance(items, list)
    return [item["kind"] for item in items]


async def test_green_only_when_nothing_waits(clock: FakeClock) -> None:
    document, page = await read(healthy(clock))
    assert document["needs_attention"] is False
    assert document["ready"] is True
    assert document["role"] == "standby"
    assert "data-testid='all-clear'" in page


async def test_a_standby_that_cannot_reach_the_store_is_not_green(clock: FakeClock) -> None:
    status = healthy(clock)
    clock.advance(120)  # the store's last answer is older than the lease ttl
    document, page = await read(status)
    assert kinds(document) == ["store"]
    assert document["ready"] is False
    assert "This replica cannot reach the store" in page
    assert "data-testid='all-clear'" not in page


async def test_a_hold_names_everyone_waiting(clock: FakeClock) -> None:
    status = healthy(clock)
    waiting = tuple(Waiting(f"deactivate:id-{n}:acc-{n}", "deactivate", f"id-{n}", f"acc-{n}",
                            f"p{n}@example.com", clock.now()) for n in range(3))  # fmt: skip
    hold = Hold(4, "deprovisioning", ("max-deactivations",), "30 > 25", clock.now(), waiting)
    status.guard_reader = lambda: GuardState(hold, USAGE, "")
    document, page = await read(status)
    (item,) = document["attention"]  # type: ignore[misc]
    assert item["kind"] == "hold"
    assert item["hold"]["id"] == 4
    assert [p["email"] for p in item["people"]] == [f"p{n}@example.com" for n in range(3)]
    assert "data-testid='release-hold'" in page


async def test_expiring_credentials_a_stale_cursor_and_orphans_are_listed(
    clock: FakeClock,
) -> None:
    status = healthy(clock)
    status.set_leader(True)
    status.credential_expiry["atlassian.api_key"] = clock.now().date() + timedelta(days=5)
    clock.advance(400)  # the leader has not read Keycloak's events for > 5 min
    status.vendor_reachable(STORE, True, clock.now())
    report = {"accounts_by_state": {"orphan": 4, "active": 10}}
    backend = ConsoleBackend(licences=lambda limit: [(clock.now(), report)])
    document, page = await read(status, backend)
    found = kinds(document)
    assert "event-cursor" in found
    assert "orphans" in found
    assert "warning" in found
    assert "4 Atlassian accounts nobody owns" in page
    assert "atlassian.api_key" in page


async def test_what_is_shown_is_escaped(clock: FakeClock) -> None:
    status = healthy(clock)
    nasty = "<img src=x onerror=alert(1)>"
    waiting = (Waiting("k", "deactivate", nasty, "acc'\"", nasty, clock.now()),)
    hold = Hold(1, "deprovisioning", (nasty,), nasty, clock.now(), waiting)
    status.guard_reader = lambda: GuardState(hold, USAGE, nasty)
    _, page = await read(status)
    assert nasty not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
