"""Per-user serialised queues with a short debounce (kopf-style).

Each identity with pending events gets one worker task; events for the same identity are
handled strictly one batch at a time, so two re-checks of one user never race. Events that
arrive while a worker waits (debounce) or works are merged into its next batch. Different
identities run in parallel, at most ``concurrency`` at a time; a worker whose queue stays
empty ends and is removed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

import structlog

from offboard.core.identities import IdentityId
from offboard.intake.priorities import DEPARTURE, PrioritySlots, ReadLedger, batch_rank, event_rank
from offboard.ports import IdentityEvent

Handler = Callable[[IdentityId, Sequence[IdentityEvent]], Awaitable[bool | None]]
"""Handles one batch of events for one identity (e.g. runs a targeted re-check); False when
the person could not be read (so the batch does not count as a re-read)."""
MAX_EVENTS_PER_USER = 32
"""A batch only needs its earliest time and its kinds: later duplicates are not kept."""

log = structlog.get_logger(__name__)


class UserQueues:
    """Fan events out to one serial worker per identity."""

    def __init__(
        self,
        handler: Handler,
        *,
        debounce: float = 0.2,
        concurrency: int = 8,
        idle_timeout: float = 1.0,
        max_backlog: int = 5000,
        on_overflow: Callable[[], object] = lambda: None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._handler = handler
        self._debounce = debounce
        self._idle_timeout = idle_timeout
        self._slots = PrioritySlots(concurrency)
        self._max_backlog = max_backlog
        self._on_overflow = on_overflow
        self._now = now
        self.ledger = ReadLedger()
        self.overflows = 0
        """Events dropped because the backlog was full (a full reconciliation covers them)."""
        self._pending: dict[IdentityId, list[IdentityEvent]] = {}
        self._wakeups: dict[IdentityId, asyncio.Event] = {}
        self._workers: dict[IdentityId, asyncio.Task[None]] = {}
        self._closed = False

    @property
    def active_workers(self) -> int:
        """Identities with a live worker right now."""
        return len(self._workers)

    @property
    def backlog(self) -> int:
        """Events waiting to be handled."""
        return sum(len(events) for events in self._pending.values())

    def submit(self, event: IdentityEvent) -> bool:
        """Queue an event for its identity; False once the queues are closed."""
        if self._closed:
            return False
        key = event.identity_id
        if key not in self._workers and not self._room_for(event):
            return True  # dropped, and a full reconciliation was asked for
        pending = self._pending.setdefault(key, [])
        room = MAX_EVENTS_PER_USER * (2 if event_rank(event) == DEPARTURE else 1)
        if len(pending) < room:
            pending.append(event)
        wakeup = self._wakeups.setdefault(key, asyncio.Event())
        wakeup.set()
        if key not in self._workers:
            self._workers[key] = asyncio.create_task(self._work(key), name=f"user-queue:{key}")
        return True

    def _room_for(self, event: IdentityEvent) -> bool:
        """Whether a new person fits in the backlog. Departures get twice the room; beyond
        that the event is dropped and a full reconciliation (which covers it) is asked for."""
        bound = self._max_backlog * (2 if event_rank(event) == DEPARTURE else 1)
        if len(self._workers) < bound:
            return True
        self.overflows += 1
        if self.overflows == 1 or self.overflows % self._max_backlog == 0:
            log.warning("event backlog full; a full reconciliation will cover the rest",
                        backlog=len(self._workers))  # fmt: skip
        self._on_overflow()
        return False

    async def _work(self, key: IdentityId) -> None:
        wakeup = self._wakeups[key]
        try:
            while True:
                if not self._pending.get(key):
                    if self._closed:
                        return
                    wakeup.clear()
                    try:
                        await asyncio.wait_for(wakeup.wait(), self._idle_timeout)
                    except TimeoutError:
                        if not self._pending.get(key):
                            return
                # Let a burst of events for this user settle into one batch.
                await asyncio.sleep(self._debounce)
                batch = self._pending.pop(key, [])
                if not batch or self._covered(key, batch):
                    continue
                async with self._slots.slot(batch_rank(batch)):
                    if not self._covered(key, batch):  # a reconciliation may have run meanwhile
                        await self._run(key, batch)
        finally:
            self._workers.pop(key, None)
            if not self._pending.get(key):
                self._wakeups.pop(key, None)
                self._pending.pop(key, None)
            elif not self._closed:
                # An event slipped in while this worker was ending: start a fresh one.
                self._workers[key] = asyncio.create_task(self._work(key))

    def _covered(self, key: IdentityId, batch: list[IdentityEvent]) -> bool:
        if not self.ledger.covered(key, batch):
            return False
        self.ledger.skipped += 1  # the person was read after these events: nothing new
        return True

    async def _run(self, key: IdentityId, batch: list[IdentityEvent]) -> None:
        started = self._now()
        try:
            read = await self._handler(key, batch)
        except asyncio.CancelledError:
            raise
        except Exception:
            # A failed re-check is not fatal: the next event or reconciliation retries it.
            log.exception("recheck failed", identity_id=key, events=len(batch))
            return
        if read is not False:
            self.ledger.reread(key, started)

    async def join(self) -> None:
        """Wait until every queued event has been handled and every worker ended."""
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)

    async def close(self, *, drain: bool = True) -> None:
        """Stop taking events; finish the queued ones (``drain``) or cancel the workers."""
        self._closed = True
        for wakeup in self._wakeups.values():
            wakeup.set()
        if not drain:
            for task in list(self._workers.values()):
                task.cancel()
        for task in list(self._workers.values()):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers.clear()
