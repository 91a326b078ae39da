"""Failures that repeat while something is down, logged as an outage and not as a flood.

The daemon retries what failed at its next tick: the event poll every second, operator
requests every second, the lease every third of its ttl, ``/metrics`` at every scrape. With
Keycloak or the store down each attempt used to log its own warning (3,600 lines an hour
from the poller alone), none saying what to do, and nothing said when it worked again.
A :class:`FailureStreak` logs the first failure with what to do, then at most one line per
``every`` seconds with the count, and one line when it works again.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog

from offboard.ports import OffboardError

log = structlog.get_logger(__name__)

REPEAT_EVERY = 60.0
"""Seconds between the lines that say an outage goes on."""

_DRIVERS = frozenset({"sqlalchemy", "psycopg", "psycopg2", "sqlite3"})


def describe(error: BaseException) -> str:
    """Our own errors promise secret-free messages; others are named by type only (a
    driver's message can carry hosts, SQL and its parameters), the store's said as such."""
    if isinstance(error, OffboardError):
        return f"{type(error).__name__}: {error}"
    if type(error).__module__.split(".")[0] in _DRIVERS:
        return f"{type(error).__name__} from the store"
    return type(error).__name__


class FailureStreak:
    """One thing that is retried on a timer (``what``, e.g. "event poll"): logs
    ``"<what> failed"`` once with ``what_to_do``, ``"<what> still failing"`` at most once per
    ``every`` seconds, and ``"<what> works again"`` when an attempt succeeds after failures."""

    def __init__(
        self,
        what: str,
        what_to_do: str,
        *,
        every: float = REPEAT_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what = what
        self.what_to_do = what_to_do
        self.every = every
        self._clock = clock
        self.failures = 0
        self._since = 0.0
        self._last_said = 0.0

    @property
    def failing(self) -> bool:
        """True from a failure until the next success."""
        return self.failures > 0

    def failed(self, error: BaseException, **context: object) -> None:
        """One more failed attempt; logged when it starts an outage or ``every`` passed."""
        now = self._clock()
        self.failures += 1
        if self.failures == 1:
            self._since = self._last_said = now
            log.warning(
                f"{self.what} failed",
                error=describe(error),
                what_to_do=self.what_to_do,
                **context,
            )
        elif now - self._last_said >= self.every:
            self._last_said = now
            log.warning(
                f"{self.what} still failing",
                error=describe(error),
                failures=self.failures,
                seconds=round(now - self._since),
                **context,
            )

    def succeeded(self) -> None:
        """An attempt worked: ends the outage (said once) or does nothing."""
        if not self.failures:
            return
        seconds = round(self._clock() - self._since)
        log.info(f"{self.what} works again", failures=self.failures, seconds=seconds)
        self.failures = 0
