"""Rate-limit headers and 429s, injected faults, the control surface, a real socket."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from offboard_emulators.atlassian import AtlassianState, create_app, generate_accounts
from offboard_emulators.atlassian.key_limit import PerKeyLimit
from offboard_emulators.common.ratelimit import RateLimitConfig, format_reset
from offboard_emulators.common.server import serve_in_thread
from tests.emulators.atlassian.conftest import (
    EXAMPLE,
    LEAVER,
    ORG,
    ORG_KEY,
    OWNER,
    SCIM_BASE,
    SCIM_KEY,
)

USERS = f"/admin/v1/orgs/{ORG}/users"
EXAMPLE_BYTES = Path(EXAMPLE).read_bytes()
RESET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?Z$")


async def test_every_response_carries_rate_limit_headers(client: httpx.AsyncClient) -> None:
    for url, headers in ((USERS, ORG_KEY), (f"{SCIM_BASE}/Users", SCIM_KEY), ("/nowhere", {})):
        response = await client.get(url, headers=headers)
        assert response.headers["x-ratelimit-limit"] == "1000"
        assert int(response.headers["x-ratelimit-remaining"]) < 1000
        assert RESET.match(response.headers["x-ratelimit-reset"])


@pytest.mark.parametrize(
    ("url", "headers", "expected"),
    [
        (USERS, ORG_KEY, {"code": 429, "message": "Rate limit exceeded"}),
        (
            f"/users/{LEAVER}/manage/profile",
            ORG_KEY,
            {"code": 429, "message": "Rate limit exceeded"},
        ),
    ],
)
async def test_429_uses_proxy_error_and_retry_after(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], expected: dict[str, object]
) -> None:
    await client.put("/_emulator/limits", json={"capacity": 2, "period_seconds": 60})
    statuses = [(await client.get(url, headers=headers)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = await client.get(url, headers=headers)
    assert limited.json() == expected
    assert limited.headers["retry-after"] == "30"
    assert limited.headers["x-ratelimit-remaining"] == "0"
    other_path = await client.get(f"/admin/v1/orgs/{ORG}", headers=headers)
    assert other_path.status_code == 200  # buckets are per key and path


async def test_429_bodies_for_v2_and_scim(client: httpx.AsyncClient) -> None:
    await client.put(
        "/_emulator/limits", json={"capacity": 1, "retry_after": False, "reset_precision": "minute"}
    )
    v2 = f"/admin/v2/orgs/{ORG}/directories"
    await client.get(v2, headers=ORG_KEY)
    limited = await client.get(v2, headers=ORG_KEY)
    assert limited.json()["errors"][0]["code"] == "ADMIN-429-1"
    assert "retry-after" not in limited.headers
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$", limited.headers["x-ratelimit-reset"])
    await client.get(f"{SCIM_BASE}/Users", headers=SCIM_KEY)
    scim = await client.get(f"{SCIM_BASE}/Users", headers=SCIM_KEY)
    assert scim.json()["status"] == "429"


def test_reset_formats_round_up() -> None:
    from datetime import UTC, datetime

    moment = datetime(2026, 6, 5, 5, 59, 30, 100, tzinfo=UTC)
    assert format_reset(moment, "second") == "2026-06-05T05:59:31Z"
    assert format_reset(moment, "minute") == "2026-06-05T06:00Z"


async def test_nth_list_page_fails_once(client: httpx.AsyncClient, tenant: AtlassianState) -> None:
    tenant.orgs[ORG].settings.v1_page_size = 5
    fault = {"fail_nth": [{"path_contains": "/users", "nth": 2, "status": 500}]}
    assert (await client.put("/_emulator/faults", json=fault)).status_code == 200
    first = (await client.get(USERS, headers=ORG_KEY)).json()
    failed = await client.get(first["links"]["next"], headers=ORG_KEY)
    assert failed.status_code == 500
    assert failed.json()["errors"][0]["code"] == "ADMIN-500-1"
    retried = await client.get(first["links"]["next"], headers=ORG_KEY)
    assert retried.status_code == 200


async def test_error_rate_and_latency(client: httpx.AsyncClient) -> None:
    await client.put(
        "/_emulator/faults",
        json={"error_rate": 1.0, "error_status": 503, "path_contains": "/scim/"},
    )
    scim = await client.get(f"{SCIM_BASE}/Users", headers=SCIM_KEY)
    assert scim.status_code == 503
    assert scim.json()["status"] == "503"
    assert (await client.get(USERS, headers=ORG_KEY)).status_code == 200
    bad = await client.put("/_emulator/faults", json={"error_rate": 2})
    assert bad.status_code == 400
    await client.put("/_emulator/faults", json={"latency_ms": 30})
    response = await client.get(USERS, headers=ORG_KEY)
    assert response.elapsed.total_seconds() >= 0.03


async def test_recorded_requests_name_the_key_never_the_secret(client: httpx.AsyncClient) -> None:
    await client.get(USERS, params={"cursor": "x"}, headers=ORG_KEY)
    await client.get(f"{SCIM_BASE}/Users", headers=SCIM_KEY)
    await client.get(USERS, headers={"Authorization": "Bearer wrong-secret"})
    recorded = (await client.get("/_emulator/requests")).json()["requests"]
    assert [(r["method"], r["path"], r["status"], r["key_id"]) for r in recorded] == [
        ("GET", USERS, 400, "key-admin"),
        ("GET", f"{SCIM_BASE}/Users", 200, "key-scim"),
        ("GET", USERS, 401, "unknown"),
    ]
    assert recorded[0]["query"] == "cursor=x"
    text = json.dumps(recorded)
    assert "emulator-org-key" not in text
    assert "wrong-secret" not in text
    assert (await client.delete("/_emulator/requests")).status_code == 204
    assert (await client.get("/_emulator/requests")).json() == {"requests": []}


async def test_a_generated_account_with_product_access_can_be_inspected(
    client: httpx.AsyncClient, tenant: AtlassianState
) -> None:
    (account_id,) = generate_accounts(tenant, ORG, 1, domain="acme.example")
    account = (await client.get(f"/_emulator/accounts/{account_id}")).json()
    assert account["product_access"], "generated accounts carry product access"
    assert all(isinstance(p["last_active"], str) for p in account["product_access"])


async def test_reset_seed_inspect_settings_and_clock(client: httpx.AsyncClient) -> None:
    assert (await client.post("/_emulator/reset")).status_code == 204
    assert (await client.get(USERS, headers=ORG_KEY)).status_code == 401
    seeded = await client.post("/_emulator/seed", content=EXAMPLE_BYTES)
    assert seeded.json()["accounts"] == 26
    await client.post(
        f"/users/{LEAVER}/manage/lifecycle/disable", json={"message": "left"}, headers=ORG_KEY
    )
    account = (await client.get(f"/_emulator/accounts/{LEAVER}")).json()
    assert account["account_status"] == "inactive"
    assert account["disable_message"] == "left"
    assert account["memberships"] == {"dir-main": "active"}
    assert account["claim_status"] == "managed"
    assert (await client.get("/_emulator/accounts/nope")).status_code == 404
    settings = await client.put(
        f"/_emulator/orgs/{ORG}/settings", json={"disable_inactive_conflict": True}
    )
    assert settings.json()["disable_inactive_conflict"] is True
    again = await client.post(f"/users/{LEAVER}/manage/lifecycle/disable", headers=ORG_KEY)
    assert again.status_code == 409
    assert (
        await client.put(f"/_emulator/orgs/{ORG}/settings", json={"nope": 1})
    ).status_code == 400
    clock = await client.put("/_emulator/clock", json={"offset_seconds": 86400})
    assert clock.json()["offset_seconds"] == 86400
    assert (
        await client.post("/_emulator/seed", json={"orgs": [{"name": "no id"}]})
    ).status_code == 400


def test_serves_over_a_real_loopback_socket(app: Starlette) -> None:
    with serve_in_thread(app) as base:
        assert base.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=base) as http:
            response = http.get(USERS, headers=ORG_KEY)
            assert response.status_code == 200
            assert response.json()["meta"]["total"] == 25
            assert "x-ratelimit-reset" in response.headers
    with pytest.raises(httpx.ConnectError), httpx.Client(base_url=base) as http:
        http.get(USERS)


def test_app_without_state_starts_empty() -> None:
    app = create_app()
    assert app.state.emulator.state.orgs == {}


async def test_buckets_are_per_route_template_not_per_account(client: httpx.AsyncClient) -> None:
    await client.put("/_emulator/limits", json={"capacity": 1})
    first = await client.get(f"/users/{LEAVER}/manage/profile", headers=ORG_KEY)
    second = await client.get(f"/users/{OWNER}/manage/profile", headers=ORG_KEY)
    assert first.status_code == 200
    assert second.status_code == 429


async def test_the_per_key_limit_counts_its_refusals_and_spares_the_control_surface(
    tenant: AtlassianState,
) -> None:
    limited = PerKeyLimit(create_app(tenant), RateLimitConfig(capacity=2, period_seconds=60))
    transport = httpx.ASGITransport(limited)
    async with httpx.AsyncClient(transport=transport, base_url="https://emulator.test") as client:
        answers = [(await client.get(USERS, headers=ORG_KEY)).status_code for _ in range(4)]
        # A benchmark's own reads of the emulator (requests, accounts) are not the key's.
        control = [(await client.get("/_emulator/requests")).status_code for _ in range(4)]
        refusals = (await client.get("/_emulator/key-limit")).json()
    assert answers == [200, 200, 429, 429]
    assert control == [200] * 4
    assert refusals == {"refused": 2}
