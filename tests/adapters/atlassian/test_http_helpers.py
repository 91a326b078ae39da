"""The shared HTTP helpers: status mapping, wait headers, scrubbing, retries, rate limiting."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
import stamina

from offboard.adapters.http import (
    MAX_BODY_CHARS,
    USER_AGENT,
    RateLimiter,
    RetryPolicy,
    body_excerpt,
    build_client,
    error_for,
    parse_reset,
    parse_retry_after,
    scrub,
    send,
    with_retries,
)
from offboard.ports import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    NotManageableError,
    PermanentError,
    TemporaryError,
)

NOW = datetime(2026, 6, 5, 5, 59, 30, tzinfo=UTC)


def _response(status: int, body: str = "", headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, text=body, headers=headers or {})


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (429, TemporaryError),
        (500, TemporaryError),
        (503, TemporaryError),
        (401, AuthenticationError),
        (403, PermanentError),
        (404, NotFoundError),
        (409, ConflictError),
        (400, PermanentError),
    ],
)
def test_status_codes_map_to_the_port_errors(status: int, kind: type[Exception]) -> None:
    error = error_for(_response(status, "{}"), "read x")
    assert type(error) is kind
    assert getattr(error, "status", None) == status


def test_a_403_refined_by_the_adapter() -> None:
    def refine(response: httpx.Response, what: str) -> PermanentError | None:
        return NotManageableError(what, reason_key=response.json()["reason"])

    error = error_for(
        _response(403, '{"reason": "externalDirectory.google"}'), "x", refine_403=refine
    )
    assert isinstance(error, NotManageableError)
    assert error.reason_key == "externalDirectory.google"


def test_a_refusal_explained_by_the_adapter_keeps_its_class() -> None:
    """The vendor's words replace the raw body of a 400 or 409 only; an unexplained body
    stays as it was (scrubbed and cut)."""

    def explain(response: httpx.Response) -> str | None:
        return "uniqueness: taken" if "taken" in response.text else None

    conflict = error_for(_response(409, '{"detail": "taken"}'), "create u", explain=explain)
    assert type(conflict) is ConflictError
    assert str(conflict) == "create u: HTTP 409 uniqueness: taken"
    unknown = error_for(_response(400, '{"x": 1}'), "create u", explain=explain)
    assert str(unknown) == 'create u: HTTP 400: {"x": 1}'
    missing = error_for(_response(404, '{"detail": "taken"}'), "read u", explain=explain)
    assert type(missing) is NotFoundError
    assert "uniqueness" not in str(missing)


def test_retry_after_in_seconds_and_as_http_date() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Fri, 05 Jun 2026 06:00:00 GMT", now=NOW) == 30.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_reset_with_minute_precision_seconds_and_past_values() -> None:
    assert parse_reset("2026-06-05T06:00Z", now=NOW) == 30.0
    assert parse_reset("2026-06-05T06:00:10.5+00:00", now=NOW) == 40.5
    assert parse_reset("2026-06-05T05:00Z", now=NOW) == 0.0
    assert parse_reset("nonsense", now=NOW) is None


def test_a_429_carries_the_server_delay_preferring_retry_after() -> None:
    both = _response(429, "", {"Retry-After": "3", "X-RateLimit-Reset": "2099-01-01T00:00Z"})
    assert isinstance(error := error_for(both, "x"), TemporaryError)
    assert error.retry_after == 3.0
    reset_only = error_for(_response(429, "", {"X-RateLimit-Reset": "2000-01-01T00:00Z"}), "x")
    assert isinstance(reset_only, TemporaryError)
    assert reset_only.retry_after == 0.0


def test_bodies_are_scrubbed_and_truncated() -> None:
    secret = "ATCTT3xFfGN0abcdefSECRET"
    text = f'Authorization: Bearer {secret} {{"access_token": "eyJa.eyJb.sig", "password":"pw"}}'
    cleaned = scrub(text)
    assert secret not in cleaned
    assert "eyJa" not in cleaned
    assert '"pw"' not in cleaned
    long = body_excerpt(_response(500, "x" * 5000))
    assert len(long) <= MAX_BODY_CHARS
    assert secret not in str(error_for(_response(401, f"bad key {secret}"), "x"))


async def test_retries_only_temporary_errors() -> None:
    calls: list[int] = []

    async def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise TemporaryError("busy", retry_after=1.0, status=503)
        return "ok"

    with stamina.set_testing(True, attempts=5):
        assert await with_retries(flaky) == "ok"
    assert len(calls) == 3

    async def forbidden() -> str:
        calls.append(1)
        raise PermanentError("no", status=403)

    calls.clear()
    with stamina.set_testing(True, attempts=5), pytest.raises(PermanentError):
        await with_retries(forbidden)
    assert len(calls) == 1


async def test_a_server_delay_beyond_the_bound_is_not_waited_for() -> None:
    calls: list[int] = []

    async def far_reset() -> None:
        calls.append(1)
        raise TemporaryError("later", retry_after=3600.0, status=429)

    with stamina.set_testing(True, attempts=5), pytest.raises(TemporaryError):
        await with_retries(far_reset, RetryPolicy(max_server_delay=180))
    assert calls == [1]


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_rate_limiter_spaces_calls_after_the_burst() -> None:
    fake = FakeTime()
    limiter = RateLimiter(10, burst=2, clock=fake.clock, sleep=fake.sleep)
    for _ in range(12):
        await limiter.acquire()
    assert fake.now == pytest.approx(1.0)  # 2 free, then 10 at 10/s


async def test_rate_limiter_adapts_to_the_server() -> None:
    fake = FakeTime()
    limiter = RateLimiter(100, burst=50, clock=fake.clock, sleep=fake.sleep)
    limiter.observe({"x-ratelimit-remaining": "0", "retry-after": "5"})
    await limiter.acquire()
    assert fake.now >= 5.0
    limiter.observe({"x-ratelimit-remaining": "1"})
    await limiter.acquire()
    start = fake.now
    await limiter.acquire()
    assert fake.now > start


async def test_send_maps_transport_errors_and_sets_the_user_agent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/down":
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json={"ok": True})

    async with build_client(
        "https://api.example.test", transport=httpx.MockTransport(handler)
    ) as client:
        response = await send(client, client.build_request("GET", "/up"), "up")
        assert response.json() == {"ok": True}
        with pytest.raises(TemporaryError):
            await send(client, client.build_request("GET", "/down"), "down")
    assert seen[0].headers["user-agent"] == USER_AGENT
