"""Atlassian adapter benchmark against the emulator over a real loopback socket.

1. Snapshot: time, requests and requests per account for an org of ``--accounts`` accounts
   (v2 search pages of 100, plus the domains and directory reads).
2. Bulk deactivation: ``--deactivations`` deactivations through the shared client-side
   limiter set to ``--rate`` requests per second, with the server enforcing the same
   per-key limit (429 + ``X-RateLimit-*`` + ``Retry-After``). Reported: achieved request
   rate as a share of the allowed rate, actions per second, 429s seen, failed actions.

    .venv/bin/python benchmarks/bench_atlassian.py --accounts 100000 --deactivations 300 --rate 20
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from starlette.types import ASGIApp

from _harness import child_process
from offboard.adapters.atlassian import AtlassianDirectory
from offboard.adapters.http import RetryPolicy
from offboard.core.accounts import AccountId
from offboard.core.identities import IdentityId
from offboard.core.plan import Action, Rule
from offboard.core.policy import ActionKind
from offboard_emulators.atlassian import AtlassianState, create_app, load_fixture, seed
from offboard_emulators.atlassian.fixture import generate_accounts
from offboard_emulators.atlassian.key_limit import PerKeyLimit
from offboard_emulators.common.ratelimit import RateLimitConfig
from offboard_emulators.common.server import LOOPBACK, free_port

EXAMPLE = Path(__file__).parents[1] / "src/offboard_emulators/atlassian/example_fixture.json"
ORG = "9a1ja8a1-1a4b-1c23-d4e5-f6a7b8c9d0e1"
KEY = "emulator-org-key"


class Counting(httpx.AsyncBaseTransport):
    """Counts requests on their way to a real socket transport."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.count = 0
        self.on_response: Callable[[httpx.Request, httpx.Response], Awaitable[None]] | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        response = await self.inner.handle_async_request(request)
        if self.on_response is not None:
            await self.on_response(request, response)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class Row:
    name: str
    value: str


def tenant(accounts: int) -> tuple[AtlassianState, list[str]]:
    state = AtlassianState()
    seed(state, load_fixture(EXAMPLE))
    ids = generate_accounts(
        state, ORG, accounts, domain="example.com", directory_id="dir-main", prefix="bench"
    )
    return state, ids


def _serve(port: int, accounts: int, rate: float | None) -> None:
    """Child process: the emulator (optionally behind a per-key limit) on a loopback port."""
    state, _ids = tenant(accounts)
    app: ASGIApp = create_app(state)
    if rate is not None:
        app = PerKeyLimit(app, RateLimitConfig(capacity=max(1, int(rate)), period_seconds=1))
    uvicorn.run(app, host=LOOPBACK, port=port, log_level="warning", access_log=False)


@contextmanager
def emulator(accounts: int, rate: float | None = None) -> Iterator[str]:
    """The emulator in its own process, so that it does not share our GIL; yields its URL.

    The child seeds the same generated tenant, so account ids match :func:`tenant`.
    """
    port = free_port()
    with child_process(_serve, (port, accounts, rate), port):
        yield f"http://{LOOPBACK}:{port}"


def adapter(url: str, transport: Counting, rate: float) -> AtlassianDirectory:
    return AtlassianDirectory(
        org_id=ORG,
        org_key=KEY,
        base_url=url,
        directory_id="dir-main",
        rate_per_second=rate,
        burst=max(1, int(rate)),
        transport=transport,
        retry=RetryPolicy(attempts=8, timeout=300, wait_initial=0.2, wait_max=5),
    )


async def bench_snapshot(accounts: int) -> list[Row]:
    counting = Counting()
    with emulator(accounts) as url:
        async with adapter(url, counting, rate=100_000) as atlassian:
            started = time.perf_counter()
            snap = await atlassian.snapshot()
            elapsed = time.perf_counter() - started
    total = len(snap.accounts)
    return [
        Row("snapshot accounts", f"{total} (complete={snap.complete})"),
        Row("snapshot time", f"{elapsed:.2f} s ({total / elapsed:,.0f} accounts/s)"),
        Row("snapshot requests", f"{counting.count} ({counting.count / total:.4f} per account)"),
    ]


async def bench_deactivation(count: int, rate: float, workers: int) -> list[Row]:
    _state, ids = tenant(count)
    counting = Counting()
    failures = 0
    refused = 0
    slots = asyncio.Semaphore(workers)

    async def deactivate(atlassian: AtlassianDirectory, account_id: str) -> None:
        nonlocal failures
        action = Action(
            ActionKind.DEACTIVATE, IdentityId(account_id), AccountId(account_id), None,
            Rule.IDENTITY_DISABLED, "benchmark",
        )  # fmt: skip
        async with slots:
            try:
                await atlassian.execute(action)
            except Exception:
                failures += 1

    async def count_refusals(request: httpx.Request, response: httpx.Response) -> None:
        nonlocal refused
        refused += response.status_code == 429

    counting.on_response = count_refusals
    with emulator(count, rate) as url:
        async with adapter(url, counting, rate) as atlassian:
            started = time.perf_counter()
            await asyncio.gather(*(deactivate(atlassian, i) for i in ids))
            elapsed = time.perf_counter() - started
    achieved = counting.count / elapsed
    # The first second rides the initial burst, which the allowed rate also grants.
    allowed = rate + rate / elapsed
    return [
        Row("deactivations", f"{count} with {workers} workers, limit {rate:g} req/s per key"),
        Row("deactivation time", f"{elapsed:.2f} s ({count / elapsed:.1f} actions/s)"),
        Row("requests", f"{counting.count} ({counting.count / count:.2f} per action)"),
        Row("achieved rate", f"{achieved:.1f} req/s = {achieved / allowed:.1%} of allowed"),
        Row("429 answers", str(refused)),
        Row("failed actions", str(failures)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--deactivations", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20.0, help="allowed requests per second")
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--skip-snapshot", action="store_true")
    args = parser.parse_args()
    rows: list[Row] = []
    if not args.skip_snapshot:
        rows += asyncio.run(bench_snapshot(args.accounts))
    rows += asyncio.run(bench_deactivation(args.deactivations, args.rate, args.workers))
    width = max(len(r.name) for r in rows)
    for row in rows:
        print(f"{row.name:<{width}}  {row.value}")


if __name__ == "__main__":
    main()
