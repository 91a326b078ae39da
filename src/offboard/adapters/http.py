"""Shared HTTP helpers for every adapter: error mapping, retries, rate limiting, clients.

One place decides what a status code means (the error tree of :mod:`offboard.ports`), how
long the server asked us to wait, how bodies are cut and scrubbed before they reach a
message, how retries are bounded, and how fast we may call. Vendor specifics (e.g. which
403 bodies mean "not manageable") are passed in by the adapters as small callbacks.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx
import structlog
from pydantic import SecretStr

from offboard import __version__
from offboard.adapters.circuit import (
    BreakerTransport,
    CircuitBreaker,
    CircuitOpenError,
    UnreachableError,
)
from offboard.ports import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    OffboardError,
    PermanentError,
    TemporaryError,
)

T = TypeVar("T")
log = structlog.get_logger("offboard.http")

DEFAULT_MAX_PAUSE = 300.0
"""Seconds a rate-limit pause may last at most, whatever the server's reset time says."""
PauseHook = Callable[[float, float], None]
"""Told of each rate-limit pause: (seconds the server asked for, seconds applied)."""

_EPSILON = 1e-9

USER_AGENT = f"offboard/{__version__}"
MAX_BODY_CHARS = 500
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)

Refine403 = Callable[[httpx.Response, str], PermanentError | None]
"""Adapter hook: turn a vendor's 403 body into a sharper error (e.g. NotManageableError)."""
Explain = Callable[[httpx.Response], str | None]
"""Adapter hook: a refusal (400, 409) in words from the vendor's error body, said in place
of the raw body; None leaves the body as it is. The error keeps its class."""

_SECRET_PATTERNS = (
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]+"),
    re.compile(
        r"(?i)(\"?(?:access_token|refresh_token|id_token|client_secret|password|secret|"
        r"api[_-]?key|token|authorization)\"?\s*[:=]\s*)(\"[^\"]*\"|[^\s,&}]+)"
    ),
    re.compile(r"\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"),  # JWTs
    re.compile(r"\bATCTT3xFfG[A-Za-z0-9_\-=]+"),  # Atlassian API key prefix
)


def scrub(text: str) -> str:
    """Replace anything that looks like a credential with ``***``."""
    text = _SECRET_PATTERNS[0].sub(lambda m: f"{m.group(1)} ***", text)
    text = _SECRET_PATTERNS[1].sub(lambda m: f"{m.group(1)}***", text)
    text = _SECRET_PATTERNS[2].sub("***", text)
    return _SECRET_PATTERNS[3].sub("***", text)


def body_excerpt(response: httpx.Response, limit: int = MAX_BODY_CHARS) -> str:
    """The response body, scrubbed and cut to ``limit`` characters, for error messages."""
    try:
        text = response.text
    except (httpx.ResponseNotRead, UnicodeDecodeError):
        return ""
    text = scrub(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def parse_reset(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds until ``X-RateLimit-Reset`` (ISO-8601, possibly minute precision like
    ``2026-06-05T06:00Z``; epoch seconds also accepted), never negative."""
    if not value or not value.strip():
        return None
    value = value.strip()
    current = now or datetime.now(UTC)
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return max(0.0, float(value) - current.timestamp())
    try:
        when = datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - current).total_seconds())


def server_delay(response: httpx.Response, *, now: datetime | None = None) -> float | None:
    """How long the server asked us to wait: ``Retry-After`` first, then the reset time."""
    delay = parse_retry_after(response.headers.get("retry-after"), now=now)
    if delay is None:
        delay = parse_reset(response.headers.get("x-ratelimit-reset"), now=now)
    return delay


def error_for(
    response: httpx.Response,
    what: str,
    *,
    refine_403: Refine403 | None = None,
    explain: Explain | None = None,
) -> OffboardError:
    """The error of :mod:`offboard.ports` that ``response`` (a non-2xx) stands for."""
    status = response.status_code
    words = explain(response) if explain is not None and status in (400, 409) else None
    detail = (
        f"{what}: HTTP {status} {words}"
        if words
        else f"{what}: HTTP {status}: {body_excerpt(response)}".rstrip(": ")
    )
    if status == 429 or status >= 500 or status == 408:
        return TemporaryError(detail, retry_after=server_delay(response), status=status)
    if status == 401:
        return AuthenticationError(detail, status=status)
    if status == 403 and refine_403 is not None:
        refined = refine_403(response, what)
        if refined is not None:
            return refined
    if status == 404:
        return NotFoundError(detail, status=status)
    if status == 409:
        return ConflictError(detail, status=status)
    return PermanentError(detail, status=status)


def raise_for_status(
    response: httpx.Response,
    what: str,
    *,
    refine_403: Refine403 | None = None,
    explain: Explain | None = None,
) -> None:
    """Raise the mapped error unless the response is a success (2xx)."""
    if not response.is_success:
        raise error_for(response, what, refine_403=refine_403, explain=explain)


def transport_error(exc: httpx.TransportError, what: str) -> TemporaryError:
    """Timeouts and connection failures are worth another try; the message names the kind
    of failure and is scrubbed like any body. An open circuit breaker is not worth retrying."""
    if isinstance(exc, CircuitOpenError):
        return UnreachableError(f"{what}: {exc}")
    return TemporaryError(f"{what}: {type(exc).__name__}: {scrub(str(exc))[:MAX_BODY_CHARS]}")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounds for :func:`with_retries`."""

    attempts: int = 6
    timeout: float = 300.0
    """Total seconds across all attempts and waits."""
    wait_initial: float = 1.0
    wait_max: float = 60.0
    max_server_delay: float = 180.0
    """A server asking for a longer pause than this is not waited for: we give up."""


def _retry_hook(policy: RetryPolicy) -> Callable[[Exception], bool | float]:
    def decide(exc: Exception) -> bool | float:
        if not isinstance(exc, TemporaryError) or isinstance(exc, UnreachableError):
            return False
        if exc.retry_after is None:
            return True
        if exc.retry_after > policy.max_server_delay:
            return False
        return exc.retry_after

    return decide


async def with_retries(call: Callable[[], Awaitable[T]], policy: RetryPolicy | None = None) -> T:
    """Run ``call``, retrying only on :class:`TemporaryError`, honouring its ``retry_after``.

    Tests make the waits instant with ``stamina.set_testing(True, attempts=N)``.

    The first attempt runs bare: building the retry machinery costs about 90 µs, more than
    the rest of a request's own work, and nearly every first attempt succeeds. A first
    failure enters stamina as its first attempt, so counts and waits are what they were.
    """
    policy = policy or RetryPolicy()
    try:
        return await call()
    except TemporaryError as error:
        first_failure: TemporaryError | None = error

    import stamina  # here: a run whose requests all succeed first time never imports it

    async def again() -> T:
        nonlocal first_failure
        if first_failure is not None:
            failure, first_failure = first_failure, None
            raise failure
        return await call()

    async for attempt in stamina.retry_context(
        on=_retry_hook(policy),
        attempts=policy.attempts,
        timeout=policy.timeout,
        wait_initial=policy.wait_initial,
        wait_max=policy.wait_max,
    ):
        with attempt:
            return await again()
    raise AssertionError("unreachable: stamina re-raises the last error")  # pragma: no cover


class RateLimiter:
    """An async token bucket: at most ``burst`` at once, ``rate_per_second`` on average.

    It also listens to the server, so that a steady stream stays under the limit instead of
    living on 429s (each of which holds every caller):

    * ``X-RateLimit-Remaining`` caps the tokens we believe we have, less the requests sent
      after the one it answers and still in flight (the server had not counted them yet).
      A client at exactly the server's rate thus slows to the server's pace whenever its
      own bucket runs ahead, by a token's time (``1 / rate``), not a pause;
    * a response that says nothing is left and asks for a wait (``Retry-After``) is obeyed;
    * a 429 pauses every caller for ``Retry-After`` (else until the reset), capped, logged
      and reported: the fallback when the above was not enough (e.g. a fixed window).

    A request with budget to spare is never delayed: the first of a run goes at once.
    Waiting until ``X-RateLimit-Reset`` whenever the budget runs low was tried and dropped:
    a reset in whole seconds (or minutes) holds a stream far longer than the server needs
    (150 requests at 10 per second took 25 to 29 s instead of 14).
    """

    def __init__(
        self,
        rate_per_second: float,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_pause: float = DEFAULT_MAX_PAUSE,
        on_pause: PauseHook | None = None,
    ) -> None:
        if rate_per_second <= 0 or burst < 1 or max_pause <= 0:
            raise ValueError("rate_per_second and max_pause must be > 0 and burst >= 1")
        self.max_pause = max_pause
        self.on_pause = on_pause
        self.pauses = 0
        self.paused_seconds = 0.0
        self.held_back = 0
        """Answers whose ``X-RateLimit-Remaining`` lowered the tokens we believed we had."""
        self.rate = rate_per_second
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._updated = clock()
        self._paused_until = 0.0
        self._sent = 0
        self._in_flight: set[int] = set()
        """Tickets of requests sent and not yet answered."""
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
        self._updated = max(self._updated, now)

    async def acquire(self) -> int:
        """Wait for a token (callers are served in arrival order). Returns the request's
        ticket: it is in flight until :meth:`observe` (or :meth:`release`) is given it."""
        async with self._lock:
            while True:
                now = self._clock()
                if now < self._paused_until:
                    await self._sleep(self._paused_until - now)
                    continue
                self._refill()
                if self._tokens >= 1 - _EPSILON:  # float sums never quite reach 1
                    self._tokens = max(0.0, self._tokens - 1)
                    self._sent += 1
                    self._in_flight.add(self._sent)
                    return self._sent
                await self._sleep((1 - self._tokens) / self.rate)

    def release(self, ticket: int | None) -> None:
        """The request of ``ticket`` is no longer in flight (e.g. a transport error)."""
        self._in_flight.discard(ticket or 0)

    def pause(self, seconds: float) -> None:
        """Hold every caller for ``seconds`` (e.g. after a 429 with ``Retry-After``), but
        never longer than ``max_pause``: a far-off reset must not stall the daemon in
        silence. A longer wish is cut, logged and reported; the next 429 then fails the
        call (``RetryPolicy.max_server_delay``) instead of waiting."""
        asked = max(0.0, seconds)
        applied = min(asked, self.max_pause)
        self._refill()
        now = self._clock()
        already_paused = self._paused_until > now
        self._paused_until = max(self._paused_until, now + applied)
        # Start from empty; the server's bucket refills during the pause and so does ours,
        # so the budget is not wasted once the pause is over.
        self._tokens = 0.0
        if applied <= 0 or already_paused:
            return  # one log line and one report per pause, not one per answer in a storm
        self.pauses += 1
        self.paused_seconds += applied
        log.warning(
            "rate limited: every call to this vendor waits",
            seconds=round(applied, 1),
            asked_seconds=round(asked, 1),
            capped=applied < asked,
        )
        if self.on_pause is not None:
            self.on_pause(asked, applied)

    def observe(
        self, headers: Mapping[str, str], status: int | None = None, ticket: int | None = None
    ) -> None:
        """Adapt to the server's view of our budget (``X-RateLimit-*``, ``Retry-After``),
        as the answer to the request of ``ticket`` tells it (None: sent before all others
        in flight, the cautious reading)."""
        self.release(ticket)
        later = sum(1 for other in self._in_flight if other > (ticket or 0))
        if status == 429:
            delay = parse_retry_after(headers.get("retry-after"))
            if delay is None:
                delay = parse_reset(headers.get("x-ratelimit-reset"))
            self.pause(delay if delay is not None else 1.0 / self.rate)
            return
        windows = _windows(headers)
        if not windows:
            return
        self._refill()
        for _limit, remaining, _reset in windows:
            budget = max(0, remaining - later)  # those sent after it spend from it too
            if budget < self._tokens:
                self._tokens = float(budget)
                self.held_back += 1
            if remaining == 0:
                asked = parse_retry_after(headers.get("retry-after"))
                if asked is not None:
                    self.pause(asked)


def _windows(headers: Mapping[str, str]) -> list[tuple[int | None, int, float | None]]:
    """Each limit a response reports, as (limit, remaining, seconds to reset).

    A response may carry several limits (e.g. one per key and one per path): the headers
    then repeat, which HTTP joins with commas, ``X-RateLimit-Remaining: 993, 3``. Each
    must be obeyed; an unreadable one is ignored.
    """

    def values(name: str) -> list[str]:
        return [part.strip() for part in headers.get(name, "").split(",") if part.strip()]

    remaining, limits, resets = (
        values(f"x-ratelimit-{n}") for n in ("remaining", "limit", "reset")
    )
    windows = []
    for index, left in enumerate(remaining):
        count = _int_or_none(left)
        if count is None:
            continue
        limit = _int_or_none(limits[index]) if index < len(limits) else None
        reset = parse_reset(resets[index]) if index < len(resets) else None
        windows.append((limit, count, reset))
    return windows


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


async def send(
    client: httpx.AsyncClient,
    request: httpx.Request,
    what: str,
    *,
    limiter: RateLimiter | None = None,
    refine_403: Refine403 | None = None,
    explain: Explain | None = None,
) -> httpx.Response:
    """Send one request through the limiter and map failures to the port errors.

    Returns the (successful, read) response; raises otherwise. No retry here: wrap the
    call in :func:`with_retries`.
    """
    ticket = await limiter.acquire() if limiter is not None else None
    try:
        response = await client.send(request)
    except httpx.TransportError as exc:
        if limiter is not None:
            limiter.release(ticket)
        raise transport_error(exc, what) from None
    if limiter is not None:
        limiter.observe(response.headers, response.status_code, ticket)
    raise_for_status(response, what, refine_403=refine_403, explain=explain)
    return response


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer <secret>`` on every request; the secret stays out of reprs."""

    def __init__(self, secret: SecretStr | str) -> None:
        self._secret = secret if isinstance(secret, SecretStr) else SecretStr(secret)
        if not self._secret.get_secret_value().strip():
            raise ValueError("the bearer secret is empty")

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._secret.get_secret_value()}"
        yield request

    def __repr__(self) -> str:
        return f"{type(self).__name__}(***)"


class _NoCookies(httpx.Cookies):
    """A jar that keeps nothing: what servers set is never stored, so never sent back."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class ApiClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` without a cookie jar.

    Every API we call authenticates each request by its ``Authorization`` header; none needs
    cookies, and a cookie a server (or a proxy in front of it) sets should not ride along on
    later calls. httpx reads every answer's ``Set-Cookie`` into its jar otherwise, about 30 µs
    an answer. Setting the client's cookies is refused rather than silently ignored.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._no_cookies = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        raise TypeError(f"{type(self).__name__} keeps no cookies")


def absolute(client: httpx.AsyncClient, path: str) -> str:
    """``path`` joined to the client's base URL, as httpx would join it.

    httpx parses a relative URL, then again the joined one; an absolute one is parsed once
    (about 70 µs less per request)."""
    return f"{str(client.base_url).rstrip('/')}/{path.lstrip('/')}"


def build_client(
    base_url: str,
    *,
    auth: httpx.Auth | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    headers: Mapping[str, str] | None = None,
    breaker: CircuitBreaker | None = None,
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` with timeouts, TLS verification on, our User-Agent, no cookie
    jar and a small pool (``transport.POOL_LIMITS``) unless ``transport`` replaces the network.

    ``breaker`` (one per vendor, shared by its clients) stops calls to a side known unreachable.
    """
    if transport is None:
        from offboard.adapters.transport import pooled_transport  # httpcore: only when called

        transport = pooled_transport()
    if breaker is not None:
        transport = BreakerTransport(transport, breaker)
    return ApiClient(
        base_url=base_url,
        auth=auth,
        transport=transport,
        timeout=timeout,
        verify=True,
        headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
        follow_redirects=False,
    )
