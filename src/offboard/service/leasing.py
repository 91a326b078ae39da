"""The leader lease: with several replicas on one store, exactly one acts.

The lease lives in the store (``acquire_lease``), so it works across hosts. The holder renews it
well before it expires; when a renewal fails or is refused, the holder steps down at once and
stops acting, and another replica takes over once the old lease has expired.
"""

from __future__ import annotations

import socket
import uuid
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from offboard.ports import Clock

LEASE_NAME = "daemon"

log = structlog.get_logger(__name__)


class LeaseStore(Protocol):
    """The part of ``Store`` a lease uses."""

    def acquire_lease(self, name: str, holder: str, ttl: timedelta, now: datetime) -> bool: ...

    def release_lease(self, name: str, holder: str) -> None: ...


def default_holder() -> str:
    """A holder name unique to this process, readable in the store (host and a random tail)."""
    return f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"


class Lease:
    """One replica's view of the shared lease."""

    def __init__(
        self,
        store: LeaseStore,
        clock: Clock,
        *,
        holder: str | None = None,
        ttl: timedelta = timedelta(seconds=30),
        name: str = LEASE_NAME,
    ) -> None:
        self.store = store
        self.clock = clock
        self.holder = holder or default_holder()
        self.ttl = ttl
        self.name = name
        self._held = False
        self.answered = False
        """Whether the store answered the last refresh (taken, renewed or refused alike)."""

    @property
    def held(self) -> bool:
        """True while this replica believes it is the leader."""
        return self._held

    @property
    def renew_every(self) -> float:
        """Seconds between renewals: a third of the ttl, so two can fail before it expires."""
        return max(self.ttl.total_seconds() / 3, 0.05)

    def refresh(self) -> bool:
        """Take or renew the lease; any failure means stepping down. Returns ``held``."""
        try:
            held = self.store.acquire_lease(self.name, self.holder, self.ttl, self.clock.now())
            self.answered = True
        except Exception as error:
            log.warning("lease renewal failed; stepping down", error=type(error).__name__)
            held = self.answered = False
        if held != self._held:
            log.info("lease " + ("taken" if held else "lost"), holder=self.holder)
        self._held = held
        return held

    def release(self) -> None:
        """Give the lease up (on shutdown) so another replica can take over at once."""
        if not self._held:
            return
        self._held = False
        try:
            self.store.release_lease(self.name, self.holder)
        except Exception as error:
            log.warning("lease release failed", error=type(error).__name__)
