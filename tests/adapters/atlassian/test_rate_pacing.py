"""The Atlassian client paces itself from ``X-RateLimit-*`` so a steady stream meets no 429
(issue 18): against the emulator with a per-key limit equal to the client's own rate, the
pace Atlassian documents by default (10 requests per second)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from offboard.adapters.http import BearerAuth, RateLimiter, build_client, send
from tests.e2e.harness import DIRECTORY, ORG_ID, ORG_KEY, OWNER_ID, atlassian_emulator

RATE = 10.0
PATH = f"/admin/v2/orgs/{ORG_ID}/directories/{DIRECTORY}/users/{OWNER_ID}"


async def burst(url: str, limiter: RateLimiter, count: int, workers: int) -> list[int]:
    """``count`` reads by ``workers`` concurrent callers; the status of each answer."""
    statuses: list[int] = []
    queue = list(range(count))
    async with build_client(url, auth=BearerAuth(ORG_KEY)) as client:

        async def worker() -> None:
            while queue:
                queue.pop()
                request = client.build_request("GET", PATH)
                try:
                    await send(client, request, "read", limiter=limiter)
                    statuses.append(200)
                except Exception as error:  # a 429 is a TemporaryError with its status
                    statuses.append(getattr(error, "status", 0) or 0)

        await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(workers))), 60)
    return statuses


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 8])
async def test_a_burst_at_the_documented_rate_meets_no_429(workers: int) -> None:
    with atlassian_emulator(RATE) as tenant:
        assert tenant.limit is not None
        limiter = RateLimiter(RATE, burst=int(RATE))
        statuses = await burst(tenant.url, limiter, 60, workers)
        refused = tenant.limit.refused
    assert statuses.count(200) == 60
    assert refused == 0
    assert limiter.pauses == 0  # no 429 pause: the headers paced it
    assert limiter.held_back > 0  # the server's budget did hold the client's bucket back


async def test_each_of_several_limits_is_obeyed() -> None:
    clock = [0.0]

    async def sleep(seconds: float) -> None:
        clock[0] += seconds

    limiter = RateLimiter(RATE, burst=10, clock=lambda: clock[0], sleep=sleep)
    ticket = await limiter.acquire()
    # Per path and per key, joined by commas as repeated headers are: the key's is low.
    limiter.observe(
        {"x-ratelimit-limit": "1000, 10", "x-ratelimit-remaining": "993, 1",
         "x-ratelimit-reset": "2099-01-01T00:00:00Z, 2099-01-01T00:00:00Z"},
        ticket=ticket,
    )  # fmt: skip
    await limiter.acquire()  # the one left
    assert clock[0] == 0
    await limiter.acquire()  # then a token's time at our own rate
    assert clock[0] == pytest.approx(1 / RATE)
    assert limiter.pauses == 0


async def test_a_single_request_is_not_delayed() -> None:
    clock = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    limiter = RateLimiter(RATE, burst=10, clock=lambda: clock[0], sleep=sleep)
    await limiter.acquire()
    limiter.observe({"x-ratelimit-limit": "10", "x-ratelimit-remaining": "9",
                     "x-ratelimit-reset": "2099-01-01T00:00:00Z"})  # fmt: skip
    await limiter.acquire()
    assert slept == []


async def test_the_budget_counts_the_requests_sent_after_the_answer() -> None:
    clock = [0.0]

    async def sleep(seconds: float) -> None:
        clock[0] += seconds

    limiter = RateLimiter(RATE, burst=10, clock=lambda: clock[0], sleep=sleep)
    first, *_ = [await limiter.acquire() for _ in range(3)]  # three in flight
    # The first one's answer says 3 left: the two sent after it spend from those 3 too.
    limiter.observe({"x-ratelimit-limit": "10", "x-ratelimit-remaining": "3"}, ticket=first)
    await limiter.acquire()
    assert clock[0] == 0
    await limiter.acquire()
    assert clock[0] == pytest.approx(1 / RATE)
    assert limiter.held_back == 1


async def test_nothing_left_and_a_wait_asked_for_is_obeyed() -> None:
    clock = [0.0]

    async def sleep(seconds: float) -> None:
        clock[0] += seconds

    limiter = RateLimiter(RATE, burst=10, clock=lambda: clock[0], sleep=sleep)
    ticket = await limiter.acquire()
    limiter.observe({"x-ratelimit-remaining": "0", "retry-after": "2"}, 200, ticket)
    await limiter.acquire()
    assert clock[0] == pytest.approx(2)


async def test_a_transport_error_is_no_longer_in_flight() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    limiter = RateLimiter(RATE, burst=10)
    async with build_client("https://api.example.test",
                            transport=httpx.MockTransport(handler)) as client:  # fmt: skip
        with pytest.raises(Exception, match="ConnectError"):
            await send(client, client.build_request("GET", "/x"), "x", limiter=limiter)
    assert not limiter._in_flight
