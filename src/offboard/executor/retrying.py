"""Bounded retries of temporary errors only, honouring the server's ``Retry-After``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to wait before sending a request again after a TemporaryError."""

    attempts: int = 5
    """Requests in all, the first included."""
    base_delay: float = 0.5
    """Exponential backoff from here when the server gave no ``Retry-After``."""
    max_delay: float = 60.0
    """No single wait is longer, whatever ``Retry-After`` says."""
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait after the ``attempt``-th request (1-based) failed temporarily."""
        wanted = retry_after if retry_after is not None else self.base_delay * 2 ** (attempt - 1)
        return max(0.0, min(wanted, self.max_delay))
