"""A 429 storm: 500 deactivations against a server limit below the client's pace.

The emulator limits per (key, path); deactivations touch a different path per account, so
this test puts a per-key bucket in front of it (the emulator's own token bucket, keyed on
the credential only). The client is configured twice too fast on purpose: the shared
limiter paces itself from ``X-RateLimit-*`` (nearly no 429), and where a server sends no
such headers on its successes it learns from the 429s alone; every action still succeeds.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import stamina

from offboard.adapters.atlassian import AtlassianDirectory
from offboard.adapters.http import RetryPolicy
from offboard.core.accounts import AccountId, AccountStatus
from offboard.core.identities import IdentityId
from offboard.core.plan import Action, Rule
from offboard.core.policy import ActionKind
from offboard_emulators.atlassian import AtlassianState, create_app, load_fixture, seed
from offboard_emulators.atlassian.fixture import generate_accounts
from offboard_emulators.atlassian.key_limit import PerKeyLimit
from offboard_emulators.common.ratelimit import RateLimitConfig

EXAMPLE = Path(__file__).parents[3] / "src/offboard_emulators/atlassian/example_fixture.json"
ORG = "9a1ja8a1-1a4b-1c23-d4e5-f6a7b8c9d0e1"


class SilentOnSuccess:
    """ASGI wrapper: a server that tells its budget only when it refuses (a 429)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def without_budget(message: Any) -> None:
            if message["type"] == "http.response.start" and message["status"] != 429:
                message["headers"] = [
                    (k, v) for k, v in message["headers"] if not k.startswith(b"x-ratelimit-")
                ]
            await send(message)

        await self.app(scope, receive, without_budget)


async def _run(
    count: int, server_rate: int, client_rate: float, *, headers: bool = True
) -> tuple[int, int, float]:
    state = AtlassianState()
    seed(state, load_fixture(EXAMPLE))
    ids = generate_accounts(state, ORG, count, domain="example.com", directory_id="dir-main")
    app = PerKeyLimit(create_app(state), RateLimitConfig(capacity=server_rate, period_seconds=1))
    served: Any = app if headers else SilentOnSuccess(app)
    adapter = AtlassianDirectory(
        org_id=ORG,
        org_key="emulator-org-key",
        base_url="https://api.atlassian.test",
        directory_id="dir-main",
        rate_per_second=client_rate,
        burst=int(client_rate),
        transport=httpx.ASGITransport(served),
        retry=RetryPolicy(attempts=8, timeout=120, wait_initial=0.2, wait_max=5),
    )
    workers = asyncio.Semaphore(8)
    failures = 0

    async def deactivate(account_id: str) -> None:
        nonlocal failures
        action = Action(
            ActionKind.DEACTIVATE, IdentityId(account_id), AccountId(account_id), None,
            Rule.IDENTITY_DISABLED, "left",
        )  # fmt: skip
        async with workers:
            try:
                await adapter.execute(action)
            except Exception:
                failures += 1

    started = time.monotonic()
    async with adapter:
        await asyncio.gather(*(deactivate(i) for i in ids))
        inactive = [
            a
            for a in (state.account(i) for i in ids)
            if a.account_status == AccountStatus.INACTIVE.value
        ]
    assert len(inactive) == count - failures
    return failures, app.refused, time.monotonic() - started


@pytest.mark.slow
async def test_a_429_storm_completes_with_no_failed_action() -> None:
    with stamina.set_testing(False):
        failures, refused, _elapsed = await _run(500, server_rate=60, client_rate=120)
    assert failures == 0
    assert refused <= 10  # paced by the headers: 2 % at most, not a storm of 429s


@pytest.mark.slow
async def test_without_budget_headers_the_429s_still_bring_every_action_through() -> None:
    with stamina.set_testing(False):
        failures, refused, _elapsed = await _run(200, 60, 120, headers=False)
    assert failures == 0
    assert refused > 0  # it was a storm: the server did refuse


async def test_a_short_storm_with_instant_retries() -> None:
    """Fast variant: the limiter's pause does the waiting even when stamina does not."""
    failures, refused, _elapsed = await _run(40, server_rate=20, client_rate=200, headers=False)
    assert failures == 0
    assert refused > 0
