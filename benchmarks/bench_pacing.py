"""A burst of N requests through offboard's Atlassian rate limiter, against the Atlassian
emulator limited to the same rate for the key (issue 18): how many 429s, how long.

The client is set to Atlassian's documented default (10 per second, a bucket of 10) and so
is the emulator, the worst case for a client that only counts its own requests. It reads
``X-RateLimit-Remaining`` from each answer (the emulator sends one per key and one per path,
comma-joined) and keeps within it. Ideal: the first 10 at once, then 10 per second.

    .venv/bin/python benchmarks/bench_pacing.py --requests 150 --workers 8
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))  # the emulator harness lives in tests/

from tests.e2e.harness import DIRECTORY, ORG_ID, ORG_KEY, OWNER_ID, atlassian_emulator

from offboard.adapters.http import BearerAuth, RateLimiter, build_client, send
from offboard.ports import TemporaryError

PATH = f"/admin/v2/orgs/{ORG_ID}/directories/{DIRECTORY}/users/{OWNER_ID}"


async def burst(count: int, workers: int, rate: float) -> None:
    with atlassian_emulator(rate) as tenant:
        assert tenant.limit is not None
        limiter = RateLimiter(rate, burst=int(rate))
        left = list(range(count))
        failed = 0
        started = time.monotonic()
        async with build_client(tenant.url, auth=BearerAuth(ORG_KEY)) as client:

            async def worker() -> None:
                nonlocal failed
                while left:
                    left.pop()
                    try:
                        await send(client, client.build_request("GET", PATH), "read",
                                   limiter=limiter)  # fmt: skip
                    except TemporaryError:
                        failed += 1

            await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(workers))), 600)
        elapsed = time.monotonic() - started
        ideal = max(0.0, (count - rate) / rate)
        print(f"{count} requests, {workers} at once, client and server at {rate:g}/s: "
              f"{elapsed:.1f} s (ideal {ideal:.1f} s: {rate:g} at once, then {rate:g}/s; "
              f"N / rate = {count / rate:.1f} s); 429s: {tenant.limit.refused}; "
              f"failed: {failed}; 429 pauses: {limiter.pauses}; "
              f"held back by Remaining: {limiter.held_back}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=150)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--rate", type=float, default=10.0)
    options = parser.parse_args()
    asyncio.run(burst(min(options.requests, 5000), options.workers, options.rate))


if __name__ == "__main__":
    main()
