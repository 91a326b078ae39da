"""The leader lease: with several replicas on one store, exactly one acts.

The lease lives in the store (``acquire_lease``), so it works across hosts. The holder renews it
well before it expires; when a renewal fails or is refused, the holder steps down at once and
stops acting, and another replica takes over once the old lease has expired.

Stepping down at the next renewal is not enough on its own: a leader paused past its lease
(SIGSTOP, a frozen VM) wakes up with work in flight. So each take-over bumps a fencing token
in the store, every pass acts under the :attr:`Lease.fence` it started with, and every write
checks it at the moment it is sent (``offboard.executor.preflight``).
"""

from __future__ import annotations

import socket
import uuid
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from offboard.ports import Clock, Fence
from offboard.service.outages import FailureStreak

LEASE_NAME = "daemon"

log = structlog.get_logger(__name__)


class LeaseStore(Protocol):
    """The part of ``Store`` a lease uses."""

    def acquire_lease(self, name: str, holder: str, ttl: timedelta, now: datetime) -> bool: ...

    def release_lease(self, name: str, holder: str) -> None: ...

    def lease_token(self, name: str, holder: str, now: datetime) -> int | None: ...


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
        self._token: int | None = None
        self._said_standby = False
        self._failures = FailureStreak(
            "lease renewal",
            "the store does not answer: a leader steps down at once and no replica acts "
            "until the store answers again; check the store",
        )

    @property
    def held(self) -> bool:
        """True while this replica believes it is the leader."""
        return self._held

    @property
    def fence(self) -> Fence | None:
        """What a pass starting now acts under, or None when this replica is not the leader.

        Every write of the pass is checked against it at the moment it is sent, so a pass
        that outlives the leadership it started under stops there."""
        if not self._held or self._token is None:
            return None
        return Fence(self.name, self.holder, self._token)

    @property
    def renew_every(self) -> float:
        """Seconds between renewals: a third of the ttl, so two can fail before it expires."""
        return max(self.ttl.total_seconds() / 3, 0.05)

    def refresh(self) -> bool:
        """Take or renew the lease; any failure means stepping down. Returns ``held``."""
        return self.settle(self.ask())

    def ask(self) -> tuple[bool, int | None] | BaseException:
        """The store's answer (held, token) or its error; changes nothing here. The daemon
        asks from a worker thread and settles on its event loop, so that leadership changes
        only between two steps of the loop."""
        now = self.clock.now()
        try:
            held = self.store.acquire_lease(self.name, self.holder, self.ttl, now)
            return held, self.store.lease_token(self.name, self.holder, now) if held else None
        except Exception as error:
            return error

    def settle(self, answer: tuple[bool, int | None] | BaseException) -> bool:
        """Take what :meth:`ask` returned as this replica's leadership. Returns ``held``."""
        if isinstance(answer, BaseException):
            self._failures.failed(answer, stepping_down=self._held)
            held, token = False, None
            self.answered = False
        else:
            held, token = answer
            self.answered = True
            self._failures.succeeded()
        held = held and token is not None
        if held != self._held or token != self._token:
            log.info("lease " + ("taken" if held else "lost"), holder=self.holder, fence=token)
        if self.answered and not held and not self._said_standby:
            log.info(
                "standing by: another replica (or an offboard command) holds the lease",
                holder=self.holder,
                what_to_do="nothing: this replica takes over when the lease is free; "
                "/leaderz and offboard_leader tell the leader apart",
            )
        self._said_standby = self.answered and not held
        self._held, self._token = held, token
        return held

    def release(self) -> None:
        """Give the lease up (on shutdown) so another replica can take over at once."""
        if not self._held:
            return
        self._held, self._token = False, None
        try:
            self.store.release_lease(self.name, self.holder)
        except Exception as error:
            log.warning("lease release failed", error=type(error).__name__)


class FencedCursorStore(Protocol):
    """The part of ``Store`` that :class:`LeaderCursors` uses."""

    def cursor(self, name: str) -> str | None: ...

    def set_cursor(self, name: str, value: str) -> None: ...

    def fence_holds(self, fence: Fence, now: datetime) -> bool: ...


class LeaderCursors:
    """The event cursors as the poller sees them: only the live leader moves one.

    A leader paused past its lease may poll once more before its next renewal tells it it
    was replaced; without this it would move the shared cursor under the new leader's feet
    (events skipped until the next full reconciliation). Checked just before the write, as
    the executor checks before each request.
    """

    def __init__(self, store: FencedCursorStore, lease: Lease) -> None:
        self.store = store
        self.lease = lease

    def cursor(self, name: str) -> str | None:
        return self.store.cursor(name)

    def set_cursor(self, name: str, value: str) -> None:
        fence = self.lease.fence
        if fence is None or not self.store.fence_holds(fence, self.lease.clock.now()):
            log.warning("cursor not moved: this replica no longer leads", cursor=name)
            return
        self.store.set_cursor(name, value)
