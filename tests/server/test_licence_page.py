"""/licences and /licences.json: the stored licence checks, read from a real SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from offboard.cli.run import assemble
from offboard.server.app import create_app
from offboard.server.metrics import Metrics, PrometheusTelemetry
from offboard.service.status import DaemonStatus
from offboard.settings import Settings
from offboard.store import SqlStore, open_store
from tests.server.conftest import LIMITS
from tests.server.login_helpers import (
    OPERATOR_USER,
    console_login,
    console_settings,
    session_store,
)
from tests.service.fakes import FakeClock

T0 = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)


def figures(
    leavers: int, inactive: int, orphans: int, unlinked: int, cost: float
) -> dict[str, object]:
    """A stored summary as core.licence_rendering.summary writes it (two products)."""
    jira = {"leaver": leavers, "inactive": inactive, "active": 40}
    confluence = {"orphan": orphans, "unlinked_scim": unlinked, "active": 7}
    return {
        "taken_at": "ignored: the row's own time is shown",
        "inactive_days": 90,
        "accounts": 60,
        "accounts_by_state": {"leaver": leavers, "inactive": inactive, "orphan": orphans,
                              "unlinked_scim": unlinked, "active": 41},
        "seats": {"jira-software": jira, "confluence": confluence},
        "seats_by_state": {"leaver": leavers, "inactive": inactive, "orphan": orphans,
                           "unlinked_scim": unlinked, "active": 47},
        "reclaimable_seats": leavers + inactive + orphans + unlinked,
        "reclaimable_monthly_cost": cost,
        "currency": "EUR",
        "histogram": {"0-30": 40, "never": 3},
    }  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = open_store(str(tmp_path / "offboard.sqlite3"))
    yield opened
    opened.close()


@pytest.fixture
async def client(store: SqlStore) -> AsyncIterator[httpx.AsyncClient]:
    clock = FakeClock()
    metrics = Metrics()
    status = DaemonStatus(clock, PrometheusTelemetry(metrics))
    login = console_login(store)
    app = create_app(
        status, metrics, readiness_limits=LIMITS, licences=store.licence_reports, login=login
    )
    transport = httpx.ASGITransport(app=app)
    cookies = login.open_session(OPERATOR_USER)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", cookies=cookies
    ) as opened:
        yield opened


def two_checks(store: SqlStore) -> None:
    store.record_licence_report(T0, figures(3, 5, 1, 2, 88.0))
    store.record_licence_report(T0 + timedelta(days=1), figures(4, 6, 2, 1, 104.5))


async def test_the_json_has_the_latest_figures_and_the_trend(
    store: SqlStore, client: httpx.AsyncClient
) -> None:
    two_checks(store)
    document = (await client.get("/licences.json")).json()
    latest = document["latest"]
    assert latest["taken_at"] == (T0 + timedelta(days=1)).isoformat()
    assert latest["seats_by_state"]["leaver"] == 4
    assert latest["seats_by_state"]["inactive"] == 6
    assert latest["seats_by_state"]["orphan"] == 2
    assert latest["seats_by_state"]["unlinked_scim"] == 1
    assert latest["seats"]["jira-software"] == {"leaver": 4, "inactive": 6, "active": 40}
    assert latest["reclaimable_monthly_cost"] == 104.5
    assert document["trend"] == [
        {"taken_at": T0.isoformat(), "reclaimable_seats": 11, "reclaimable_monthly_cost": 88.0},
        {
            "taken_at": (T0 + timedelta(days=1)).isoformat(),
            "reclaimable_seats": 13,
            "reclaimable_monthly_cost": 104.5,
        },
    ]


async def test_the_page_shows_the_latest_check_and_draws_the_trend(
    store: SqlStore, client: httpx.AsyncClient
) -> None:
    two_checks(store)
    response = await client.get("/licences")
    assert response.status_code == 200
    page = response.text
    assert "name='viewport'" in page
    assert "<script" not in page
    assert "<strong>13</strong> reclaimable seats" in page
    assert "<strong>104.5 EUR</strong>" in page
    for state, seats in (("leaver", 4), ("inactive", 6), ("orphan", 2), ("unlinked_scim", 1)):
        assert f"<tr><td>{state}</td><td>{seats}</td><td>{seats}</td></tr>" in page
    # per product: leaver, unlinked_scim, orphan, inactive, active, then reclaimable
    assert "<tr><td>jira-software</td><td>4</td><td>0</td><td>0</td><td>6</td><td>40</td>" in page
    assert "<td>confluence</td><td>0</td><td>1</td><td>2</td><td>0</td><td>7</td><td>3</td>" in page
    assert 'aria-label="Reclaimable seats over time"' in page
    assert "<title>2026-11-01: 11</title>" in page
    assert "<title>2026-11-02: 13</title>" in page


async def test_with_no_stored_check_the_page_says_how_to_get_one(client: httpx.AsyncClient) -> None:
    page = (await client.get("/licences")).text
    assert "No licence check is stored yet" in page
    assert "licences.daily_at" in page
    assert "offboard report licences --record" in page
    assert "<svg" not in page
    document = (await client.get("/licences.json")).json()
    assert document["latest"] is None
    assert document["trend"] == []
    assert "licences.daily_at" in document["message"]


async def test_a_store_without_history_reads_as_none_stored(tmp_path: Path) -> None:
    clock = FakeClock()
    metrics = Metrics()
    sessions = session_store(tmp_path)
    login = console_login(sessions)
    app = create_app(DaemonStatus(clock, PrometheusTelemetry(metrics)), metrics,
                     readiness_limits=LIMITS, login=login)  # fmt: skip
    transport = httpx.ASGITransport(app=app)
    cookies = login.open_session(OPERATOR_USER)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", cookies=cookies
    ) as client:
        assert "No licence check is stored yet" in (await client.get("/licences")).text
        assert (await client.get("/licences.json")).json()["latest"] is None
    sessions.close()


async def test_hostile_stored_values_are_escaped(
    store: SqlStore, client: httpx.AsyncClient
) -> None:
    hostile = figures(1, 0, 0, 0, 10.0)
    hostile["seats"] = {"<script>alert(1)</script>\x1b[31m": {"leaver": 1}}
    hostile["currency"] = "<img src=x onerror=alert(2)>"
    store.record_licence_report(T0, hostile)
    page = (await client.get("/licences")).text
    assert "<script>" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\\x1b[31m" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    metrics = (await client.get("/metrics")).text
    assert "alert" not in metrics


async def test_the_status_page_links_the_licence_view(client: httpx.AsyncClient) -> None:
    page = (await client.get("/")).text
    assert "<a href='/licences'>" in page


async def test_the_daemon_wires_its_store_history_to_the_operations_listener_only(
    store: SqlStore,
) -> None:
    two_checks(store)
    settings = Settings.from_values(
        {
            "keycloak": {"base_url": "http://127.0.0.1:9", "realm": "r", "client_secret": "x"},
            "atlassian": {"base_url": "http://127.0.0.1:9", "org_id": "o", "api_key": "k"},
            "daemon": {"webhook_secret": "a-webhook-secret-long-enough-0123"},
            "console": console_settings().model_dump(mode="json", exclude_none=True)
            | {"client_secret": "console-client-secret", "session_secret": "s" * 40},
        }
    )
    cookies = console_login(store).open_session(OPERATOR_USER)  # as another replica would
    async with AsyncExitStack() as stack:
        assembly = await assemble(settings, stack, store=store)
        assert assembly.webhook_app is not None
        ops = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=assembly.app), base_url="http://o", cookies=cookies
        )
        hook = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=assembly.webhook_app), base_url="http://w"
        )
        async with ops, hook:
            document = (await ops.get("/licences.json")).json()
            hidden = (await hook.get("/licences")).status_code
    assert document["latest"]["reclaimable_seats"] == 13
    assert len(document["trend"]) == 2
    assert hidden == 404
