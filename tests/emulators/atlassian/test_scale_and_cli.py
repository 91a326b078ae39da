"""Scale (O(page) work per request, 100k walks) and the command-line entry point."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest

from offboard_emulators.atlassian import AtlassianState, create_app, generate_accounts
from offboard_emulators.atlassian.model import Account, ApiKey, Directory, Domain
from offboard_emulators.common.ratelimit import RateLimitConfig
from offboard_emulators.common.server import free_port
from tests.emulators.atlassian.conftest import EXAMPLE, ORG, ORG_KEY

KEY = {"Authorization": "Bearer big-secret"}


class CountingState(AtlassianState):
    """Counts account lookups, to show that a page costs O(page), not O(accounts)."""

    lookups = 0

    def account(self, account_id: str) -> Account:
        CountingState.lookups += 1
        return super().account(account_id)


def big_tenant(count: int, state: AtlassianState | None = None) -> AtlassianState:
    tenant = state or AtlassianState()
    tenant.add_org("big", "Big org")
    tenant.add_domain("big", Domain("d", "big.example"))
    tenant.add_directory("big", Directory("dir", "Main"))
    tenant.add_key(ApiKey("big-key", "big-secret", "org", "big"))
    generate_accounts(tenant, "big", count, domain="big.example", directory_id="dir")
    return tenant


async def test_a_page_deep_in_the_listing_touches_only_its_accounts() -> None:
    tenant = big_tenant(5_000, CountingState())
    app = create_app(tenant)
    search = "/admin/v2/orgs/big/directories/-/users/search"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://e") as client:
        body = {"limit": 100}
        for _ in range(30):
            page = (await client.post(search, json=body, headers=KEY)).json()
            body = {"cursor": page["links"]["next"], "limit": 100}
        CountingState.lookups = 0
        await client.post(search, json=body, headers=KEY)
        assert CountingState.lookups <= 3 * 100 + 10
        v1 = (await client.get("/admin/v1/orgs/big/users", headers=KEY)).json()
        CountingState.lookups = 0
        await client.get(v1["links"]["next"], headers=KEY)
        assert CountingState.lookups <= 3 * 100 + 10
        CountingState.lookups = 0
        await client.post(search, json={"emails": ["user004999@big.example"]}, headers=KEY)
        assert CountingState.lookups <= 5


@pytest.mark.slow
async def test_walks_100k_accounts_through_v2_search_and_v1_list() -> None:
    app = create_app(big_tenant(100_000))
    app.state.emulator.limiter.configure(RateLimitConfig(capacity=10**9))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://e") as client:
        seen: set[str] = set()
        body: dict[str, object] = {"limit": 100}
        while True:
            page = (
                await client.post(
                    "/admin/v2/orgs/big/directories/-/users/search", json=body, headers=KEY
                )
            ).json()
            seen.update(user["accountId"] for user in page["data"])
            if "next" not in page["links"]:
                break
            body = {"cursor": page["links"]["next"], "limit": 100}
        assert len(seen) == 100_000
        url: str | None = "/admin/v1/orgs/big/users"
        listed = 0
        while url:
            page = (await client.get(url, headers=KEY)).json()
            listed += len(page["data"])
            url = page["links"].get("next")
        assert listed == 100_000


def test_command_line_serves_a_seed_file() -> None:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "offboard_emulators.atlassian",
        "--port",
        str(port),
        "--seed",
        str(EXAMPLE),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        response = None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/admin/v1/orgs/{ORG}", headers=ORG_KEY
                )
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        assert response is not None
        assert response.json()["data"]["id"] == ORG
    finally:
        process.terminate()
        process.wait(timeout=10)
        assert process.stderr is not None
        process.stderr.close()
