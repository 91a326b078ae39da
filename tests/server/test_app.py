"""Health, readiness, metrics and the status page."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client import generate_latest

from offboard.server.metrics import MeteredTransport, Metrics, endpoint_label, httpx_hooks
from offboard.service.passes import ActionReport, PassReport
from offboard.service.status import percentile
from tests.server.conftest import Wired
from tests.service.fakes import blocked_plan, passing_plan


def full_pass(wired: Wired, *, complete: bool = True, blocked: bool = False) -> PassReport:
    start = wired.clock.now()
    wired.clock.advance(1.5)
    plan = blocked_plan(start) if blocked else passing_plan(start)
    action = ActionReport(
        "deactivate:u1:a1", "deactivate", "u1", "a1", "<b>x</b>@example.com", "verified",
        wired.clock.now(), deprovisioning=True, detail="<script>alert(1)</script>",
    )  # fmt: skip
    problems = () if complete else ("keycloak: page 3 failed",)
    return PassReport(
        "full", start, wired.clock.now(), complete, "run-1", plan, (action,), problems,
        {"identities": 120, "accounts": 118},
    )  # fmt: skip


async def test_healthz_says_alive(wired: Wired) -> None:
    response = await wired.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}


async def test_a_standby_that_reaches_the_store_is_ready_and_not_leader(wired: Wired) -> None:
    first = await wired.client.get("/readyz")
    assert first.status_code == 503
    assert "store" in " ".join(first.json()["reasons"])

    wired.status.vendor_reachable("store", True, wired.clock.now())
    ready = await wired.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "role": "standby"}
    leaderz = await wired.client.get("/leaderz")
    assert leaderz.status_code == 503
    assert leaderz.json() == {"role": "standby"}

    wired.clock.advance(31)  # the lease loop stopped hearing from the store
    assert (await wired.client.get("/readyz")).status_code == 503


async def test_the_leader_is_ready_once_reconciled_and_while_it_is_fresh(wired: Wired) -> None:
    wired.status.set_leader(True)
    wired.status.vendor_reachable("store", True, wired.clock.now())
    response = await wired.client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["role"] == "leader"
    assert "no complete reconciliation" in " ".join(response.json()["reasons"])

    wired.status.record_pass(full_pass(wired), "full")
    wired.status.vendor_reachable("store", True, wired.clock.now())
    assert (await wired.client.get("/readyz")).status_code == 200
    assert (await wired.client.get("/leaderz")).json() == {"role": "leader"}
    assert "offboard_leader 1.0" in (await wired.client.get("/metrics")).text

    wired.clock.advance(3600)
    wired.status.vendor_reachable("store", True, wired.clock.now())
    stale = await wired.client.get("/readyz")
    assert stale.status_code == 503
    assert "old" in " ".join(stale.json()["reasons"])


async def test_an_incomplete_reconciliation_makes_the_replica_unready(wired: Wired) -> None:
    wired.status.set_leader(True)
    wired.status.vendor_reachable("store", True, wired.clock.now())
    wired.status.record_pass(full_pass(wired), "full")
    wired.status.record_pass(full_pass(wired, complete=False), "full")
    response = await wired.client.get("/readyz")
    assert response.status_code == 503
    assert "page 3 failed" in " ".join(response.json()["reasons"])


async def test_metrics_expose_passes_actions_guards_and_latency(wired: Wired) -> None:
    wired.status.record_pass(full_pass(wired, blocked=True), "full")
    wired.status.record_latency(2.5)
    wired.status.record_poll(wired.clock.now(), 0.7)
    text = (await wired.client.get("/metrics")).text
    assert 'offboard_actions_total{kind="deactivate",outcome="verified"} 1.0' in text
    assert 'offboard_guard_trips_total{guard="max-deactivations"} 1.0' in text
    assert "offboard_blocked_plans 1.0" in text
    assert 'offboard_reconciliations_total{kind="full",result="blocked"} 1.0' in text
    assert 'offboard_reconciliation_last_count{what="identities"} 120.0' in text
    assert "offboard_deprovisioning_latency_seconds_count 1.0" in text
    assert "offboard_event_lag_seconds 0.7" in text

    wired.status.record_pass(full_pass(wired), "full")
    text = (await wired.client.get("/metrics")).text
    assert "offboard_blocked_plans 0.0" in text


async def test_the_status_page_shows_blocks_actions_latency_and_escapes(wired: Wired) -> None:
    wired.status.record_pass(full_pass(wired, blocked=True), "full")
    for seconds in (1.0, 2.0, 3.0, 10.0):
        wired.status.record_latency(seconds)
    page = (await wired.client.get("/")).text
    assert "max-deactivations" in page
    assert "--override-guard" in page
    assert "&lt;script&gt;" in page
    assert "<script>alert" not in page  # (an operator's page has its own reload script)
    assert "2.00 s" in page  # p50
    assert "10.00 s" in page  # p95 and max


async def test_httpx_hooks_count_requests_and_429s_per_vendor_and_endpoint() -> None:
    metrics = Metrics()
    seen: list[tuple[str, bool]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429 if "throttled" in request.url.path else 200)

    async with httpx.AsyncClient(
        transport=httpx.MockTransport(answer),
        event_hooks=httpx_hooks(metrics, "atlassian", lambda v, ok: seen.append((v, ok))),
    ) as client:
        await client.get("https://api.example/users/557058:abc-123/manage/lifecycle/disable")
        await client.get("https://api.example/throttled/42")
    text = generate(metrics)
    assert (
        'offboard_api_requests_total{endpoint="/users/{id}/manage/lifecycle/disable",'
        'method="GET",status="200",vendor="atlassian"} 1.0'
    ) in text
    assert 'offboard_api_throttled_total{endpoint="/throttled/{id}",vendor="atlassian"} 1.0' in text
    assert seen == [("atlassian", True), ("atlassian", True)]


def test_endpoint_labels_hide_ids() -> None:
    uuid = "0b8c4a57-5d0e-4f43-9b3a-0a1c2d3e4f50"
    assert endpoint_label(f"/admin/realms/r/users/{uuid}") == "/admin/realms/r/users/{id}"
    assert endpoint_label("/admin/v1/orgs/5f0e9a1b2c3d4e5f6a7b8c9d/users") == (
        "/admin/v1/orgs/{id}/users"
    )
    assert endpoint_label("/admin/realms/r/users/count") == "/admin/realms/r/users/count"


def generate(metrics: Metrics) -> str:
    return generate_latest(metrics.registry).decode()


def test_latency_summary_uses_nearest_rank() -> None:
    samples = [float(n) for n in range(1, 101)]
    assert percentile(samples, 0.5) == 50.0
    assert percentile(samples, 0.95) == 95.0
    assert percentile(samples, 0.99) == 99.0
    assert percentile([], 0.5) is None


async def test_the_metered_transport_counts_and_reports_unreachable_vendors() -> None:
    metrics = Metrics()
    seen: list[tuple[str, bool]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "down.example":
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(503)

    transport = MeteredTransport(
        httpx.MockTransport(answer), metrics, "keycloak", lambda v, ok: seen.append((v, ok))
    )
    async with httpx.AsyncClient(transport=transport) as client:
        await client.get("https://kc.example/admin/realms/r/users/count")
        with pytest.raises(httpx.ConnectError):
            await client.get("https://down.example/")
    assert seen == [("keycloak", False), ("keycloak", False)]
    assert (
        'offboard_api_requests_total{endpoint="/admin/realms/r/users/count",method="GET",'
        'status="503",vendor="keycloak"} 1.0'
    ) in generate(metrics)
