"""Token-bucket rate limiting per (credential, path), with the numbers a client sees."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any


@dataclass(frozen=True, slots=True)
class RateLimitConfig:
    """``capacity`` requests per ``period_seconds`` for each key and path.

    ``retry_after`` adds a ``Retry-After`` header (whole seconds) to 429 answers.
    ``reset_precision`` is ``"second"`` or ``"minute"``: the vendor has been seen sending
    ``X-RateLimit-Reset`` with minute precision, which a client must also parse.
    """

    capacity: int = 1000
    period_seconds: float = 60.0
    enabled: bool = True
    retry_after: bool = True
    reset_precision: str = "second"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RateLimitConfig:
        """Build from the control-surface JSON, keeping defaults for absent fields."""
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        config = cls(**known)
        if config.capacity < 1 or config.period_seconds <= 0:
            raise ValueError("capacity must be >= 1 and period_seconds > 0")
        if config.reset_precision not in ("second", "minute"):
            raise ValueError("reset_precision must be 'second' or 'minute'")
        return config

    def to_json(self) -> dict[str, Any]:
        """The JSON form served by the control surface."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class RateDecision:
    """Whether a request may pass, and the headers that describe the bucket."""

    allowed: bool
    limit: int
    remaining: int
    reset_at: datetime
    retry_after_seconds: int | None

    def headers(self, precision: str) -> dict[str, str]:
        """``X-RateLimit-*`` headers (and ``Retry-After`` when refused)."""
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": format_reset(self.reset_at, precision),
        }
        if self.retry_after_seconds is not None:
            headers["Retry-After"] = str(self.retry_after_seconds)
        return headers


def format_reset(moment: datetime, precision: str) -> str:
    """ISO-8601 UTC: ``2026-06-05T06:00:12Z`` or, rounded up, ``2026-06-05T06:01Z``."""
    if precision == "minute":
        ceiled = moment.replace(second=0, microsecond=0)
        if ceiled < moment:
            ceiled += timedelta(minutes=1)
        return ceiled.strftime("%Y-%m-%dT%H:%MZ")
    ceiled = moment.replace(microsecond=0)
    if ceiled < moment:
        ceiled += timedelta(seconds=1)
    return ceiled.strftime("%Y-%m-%dT%H:%M:%SZ")


class RateLimiter:
    """One token bucket per (key id, path); refills continuously."""

    def __init__(
        self,
        config: RateLimitConfig | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config or RateLimitConfig()
        self._monotonic = monotonic
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self._lock = threading.Lock()

    def configure(self, config: RateLimitConfig) -> None:
        """Replace the limits and start every bucket full again."""
        with self._lock:
            self.config = config
            self._buckets.clear()

    def take(self, key_id: str, path: str) -> RateDecision:
        """Spend one token for this key and path if one is left."""
        config = self.config
        rate = config.capacity / config.period_seconds
        now = self._monotonic()
        with self._lock:
            tokens, last = self._buckets.get((key_id, path), (float(config.capacity), now))
            tokens = min(float(config.capacity), tokens + (now - last) * rate)
            allowed = not config.enabled or tokens >= 1.0
            if allowed and config.enabled:
                tokens -= 1.0
            self._buckets[(key_id, path)] = (tokens, now)
        wall = datetime.now(UTC)
        if allowed:
            seconds_to_full = (config.capacity - tokens) / rate
            return RateDecision(
                True, config.capacity, int(tokens), wall + timedelta(seconds=seconds_to_full), None
            )
        wait = (1.0 - tokens) / rate
        retry = max(1, math.ceil(wait)) if config.retry_after else None
        return RateDecision(False, config.capacity, 0, wall + timedelta(seconds=wait), retry)
