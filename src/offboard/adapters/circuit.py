"""One circuit breaker per vendor: stop calling a side that is known to be unreachable.

Without it, every read against an unreachable Keycloak waits out its own retries (about 3 s
each), so a plan over 205 linked people took ten minutes to say "Keycloak is down". The breaker
counts consecutive failures to reach the vendor (connection errors, timeouts, 502/503/504); at
``threshold`` it opens and every request fails at once with :class:`UnreachableError`, which
is never retried. After ``cooldown`` seconds one probe request goes through: a success closes
the breaker, a failure keeps it open for another cooldown.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from offboard.ports import TemporaryError

UNREACHABLE_STATUSES = frozenset({502, 503, 504})
DEFAULT_THRESHOLD = 5
DEFAULT_COOLDOWN = 15.0


class UnreachableError(TemporaryError):
    """The vendor is known to be unreachable right now (its breaker is open): not retried."""


class CircuitOpenError(httpx.TransportError):
    """Raised by :class:`BreakerTransport` instead of sending while the breaker is open."""


class CircuitBreaker:
    """Consecutive-failure breaker for one vendor (shared by all its clients)."""

    def __init__(
        self,
        vendor: str,
        *,
        threshold: int = DEFAULT_THRESHOLD,
        cooldown: float = DEFAULT_COOLDOWN,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if threshold < 1 or cooldown <= 0:
            raise ValueError("threshold must be >= 1 and cooldown > 0")
        self.vendor = vendor
        self._threshold = threshold
        self._cooldown = cooldown
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False
        self.refused = 0
        """Requests refused without being sent (for tests and benchmarks)."""

    @property
    def is_open(self) -> bool:
        """True while requests are refused (a probe may still be let through)."""
        return self._opened_at is not None

    def allow(self) -> bool:
        """Whether a request may be sent now; while open, one probe per cooldown."""
        if self._opened_at is None:
            return True
        if not self._probing and self._clock() - self._opened_at >= self._cooldown:
            self._probing = True
            return True
        self.refused += 1
        return False

    def succeeded(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._probing = False

    def failed(self) -> None:
        self._failures += 1
        if self._probing or self._failures >= self._threshold:
            self._opened_at = self._clock()
            self._probing = False


class BreakerTransport(httpx.AsyncBaseTransport):
    """Wraps a transport: refuses while the breaker is open, tells it every outcome."""

    def __init__(self, inner: httpx.AsyncBaseTransport, breaker: CircuitBreaker) -> None:
        self._inner = inner
        self.breaker = breaker

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self.breaker.allow():
            raise CircuitOpenError(
                f"{self.breaker.vendor} is unreachable (recent requests failed); "
                "not calling it until it answers again",
                request=request,
            )
        try:
            response = await self._inner.handle_async_request(request)
        except httpx.TransportError:
            self.breaker.failed()
            raise
        if response.status_code in UNREACHABLE_STATUSES:
            self.breaker.failed()
        else:
            self.breaker.succeeded()
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()
