"""Waves: events that arrive together are handed on together, as one batch of people.

A mass disable in Keycloak reaches the daemon as one event per person, within a second or
two. Handled one person at a time, each re-check paid its own reads and pauses (30 people
took a median of 30 s each). Here one collector takes everyone queued, lingers a little
(``linger``) so the rest of the burst joins, and hands up to ``max_wave`` people to the
handler as one wave; events that arrive meanwhile form the next wave.

The rules of the per-person queues this replaces hold here too:

* the first wave of a burst is small (``first_wave`` people when no wave is in flight), and
  each later one at most twice the people already in flight, up to ``max_wave``: the
  Atlassian rate limit, not planning, bounds a large wave, and a 500-person first plan kept
  the limit idle for seconds while the next ones, planned meanwhile, found it busy anyway;
* one person is never in two waves at once: events for someone in flight wait for the next;
* departure-like events go first (:func:`~offboard.intake.priorities.event_rank`): a wave is
  filled with the most urgent people, then in arrival order;
* at most ``concurrency`` waves run at once; while all run, the queue keeps filling;
* the backlog of people is bounded; beyond it events are dropped and ``on_overflow`` asks
  for a full reconciliation, which covers them;
* people read after their events (:class:`~offboard.intake.priorities.ReadLedger`) are
  skipped; a person the handler could not read is queued again after ``retry_delay``, up
  to ``max_attempts`` times, and then left to the next full reconciliation.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from offboard.core.identities import IdentityId
from offboard.intake.priorities import DEPARTURE, ReadLedger, batch_rank, event_rank
from offboard.ports import IdentityEvent

log = structlog.get_logger(__name__)

Wave = dict[IdentityId, list[IdentityEvent]]
FIRST_WAVE = 50
"""People in a wave handed on while none is in flight: planned in about a second, so the
first deactivations go out while the rest of the burst is planned."""
MAX_EVENTS_PER_USER = 32
"""A person's events only matter for their earliest time and kinds: later ones are not kept
beyond this (departures get twice the room)."""


@dataclass(frozen=True, slots=True)
class WaveOutcome:
    """What the handler made of a wave: who was read and planned unblocked (``settled``:
    older events are covered), and who could not be read (``retry``)."""

    settled: frozenset[IdentityId] = frozenset()
    retry: frozenset[IdentityId] = frozenset()


WaveHandler = Callable[[Wave], Awaitable[WaveOutcome]]


class WaveQueues:
    """Collects events per person and hands them on in waves (see the module docstring)."""

    def __init__(
        self,
        handler: WaveHandler,
        *,
        linger: float = 0.3,
        max_wave: int = 500,
        first_wave: int = FIRST_WAVE,
        concurrency: int = 4,
        max_backlog: int = 5000,
        retry_delay: float = 2.0,
        max_attempts: int = 3,
        on_overflow: Callable[[], object] = lambda: None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if max_wave < 1 or concurrency < 1:
            raise ValueError("max_wave and concurrency must be at least 1")
        self._handler = handler
        self._linger = linger
        self._max_wave = max_wave
        self._first_wave = max(1, first_wave)
        self._free = asyncio.Semaphore(concurrency)
        self._max_backlog = max_backlog
        self._retry_delay = retry_delay
        self._max_attempts = max_attempts
        self._on_overflow = on_overflow
        self._now = now
        self.ledger = ReadLedger()
        self.overflows = 0
        """Events dropped because the backlog was full (a full reconciliation covers them)."""
        self.sizes: list[int] = []
        """The size of each wave handed on, in order (for tests, logs and the benchmark)."""
        self._pending: Wave = {}
        self._in_flight: set[IdentityId] = set()
        self._attempts: dict[IdentityId, int] = {}
        self._retrying: dict[IdentityId, asyncio.TimerHandle] = {}
        self._waves: set[asyncio.Task[None]] = set()
        self._arrived = asyncio.Event()
        self._progress = asyncio.Event()
        """Set whenever people leave the queue or a wave ends (``join`` waits on it)."""
        self._collector: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def active_workers(self) -> int:
        """People in a wave being handled right now."""
        return len(self._in_flight)

    @property
    def backlog(self) -> int:
        """Events waiting to be handled."""
        return sum(len(events) for events in self._pending.values())

    def submit(self, event: IdentityEvent) -> bool:
        """Queue an event for its person; False once the queues are closed."""
        if self._closed:
            return False
        key = event.identity_id
        known = key in self._pending or key in self._in_flight or key in self._retrying
        if not known and not self._room_for(event):
            return True  # dropped, and a full reconciliation was asked for
        self._add(key, [event])
        if self._collector is None or self._collector.done():
            self._collector = asyncio.create_task(self._collect(), name="wave-collector")
        return True

    def _add(self, key: IdentityId, events: Iterable[IdentityEvent]) -> None:
        pending = self._pending.setdefault(key, [])
        for event in events:
            room = MAX_EVENTS_PER_USER * (2 if event_rank(event) == DEPARTURE else 1)
            if len(pending) < room:
                pending.append(event)
        self._arrived.set()

    def _room_for(self, event: IdentityEvent) -> bool:
        """Whether a new person fits in the backlog (departures get twice the room)."""
        people = len(self._pending) + len(self._in_flight) + len(self._retrying)
        if people < self._max_backlog * (2 if event_rank(event) == DEPARTURE else 1):
            return True
        self.overflows += 1
        if self.overflows == 1 or self.overflows % self._max_backlog == 0:
            log.warning("event backlog full; a full reconciliation will cover the rest",
                        backlog=people)  # fmt: skip
        self._on_overflow()
        return False

    def _ready(self) -> list[IdentityId]:
        return [key for key in self._pending if key not in self._in_flight]

    async def _collect(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._ready():
                if self._closed and not self._waves and not self._retrying:
                    return
                self._arrived.clear()
                await self._arrived.wait()
                continue
            # Let the rest of the burst arrive: up to ``linger``, or until the wave is full.
            deadline = loop.time() + self._linger
            while not self._closed and len(self._ready()) < self._wave_limit():
                left = deadline - loop.time()
                if left <= 0:
                    break
                self._arrived.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._arrived.wait(), left)
            await self._free.acquire()  # while every wave slot is busy, the queue fills
            wave = self._take()
            if not wave:
                self._free.release()
                continue
            self._in_flight.update(wave)  # now: the next wave's limit counts these people
            task = asyncio.create_task(self._run(wave), name=f"wave:{len(wave)}")
            self._waves.add(task)
            task.add_done_callback(self._waves.discard)

    def _wave_limit(self) -> int:
        """How many people the next wave may take: ``first_wave`` while none is in flight,
        else twice those in flight, never more than ``max_wave``."""
        return min(self._max_wave, max(self._first_wave, 2 * len(self._in_flight)))

    def _take(self) -> Wave:
        """The most urgent ready people first, then in arrival order; covered ones skipped."""
        ready = self._ready()
        ranked = sorted(ready, key=lambda key: batch_rank(self._pending[key]))  # stable sort
        limit = self._wave_limit()
        wave: Wave = {}
        for key in ranked:
            if len(wave) >= limit:
                break
            events = self._pending.pop(key)
            if self.ledger.covered(key, events):
                self.ledger.skipped += 1  # read after these events: nothing new
                continue
            wave[key] = events
        self._progress.set()
        return wave

    async def _run(self, wave: Wave) -> None:
        self._in_flight.update(wave)
        self.sizes.append(len(wave))
        started = self._now()
        outcome = WaveOutcome()
        try:
            outcome = await self._handler(wave)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("wave failed; its people are retried", people=len(wave))
            outcome = WaveOutcome(retry=frozenset(wave))
        finally:
            # All without an await: the collector sees the wave gone and its outcome kept.
            self._in_flight.difference_update(wave)
            self._free.release()
            self._settle(wave, outcome, started)
            task = asyncio.current_task()
            if task is not None:
                self._waves.discard(task)
            self._arrived.set()  # events for these people may wait; a slot is free
            self._progress.set()

    def _settle(self, wave: Wave, outcome: WaveOutcome, started: datetime) -> None:
        for key in outcome.settled:
            self.ledger.reread(key, started)
            self._attempts.pop(key, None)
        for key in wave:  # in the wave's order, so retries keep their places
            if key in outcome.retry:
                self._retry(key, wave[key])

    def _retry(self, key: IdentityId, events: list[IdentityEvent]) -> None:
        attempts = self._attempts.get(key, 0) + 1
        if attempts > self._max_attempts or self._closed:
            self._attempts.pop(key, None)
            log.warning("re-check kept failing; the next full reconciliation covers it",
                        identity_id=key, attempts=attempts - 1)  # fmt: skip
            return
        self._attempts[key] = attempts
        if key in self._retrying:
            return
        handle = asyncio.get_running_loop().call_later(
            self._retry_delay, self._requeue, key, events
        )
        self._retrying[key] = handle

    def _requeue(self, key: IdentityId, events: list[IdentityEvent]) -> None:
        self._retrying.pop(key, None)
        self._add(key, events)
        self._progress.set()
        if not self._closed and (self._collector is None or self._collector.done()):
            self._collector = asyncio.create_task(self._collect(), name="wave-collector")

    async def join(self) -> None:
        """Wait until every queued event has been handled (retries included)."""
        while self._pending or self._waves or self._retrying:
            self._progress.clear()
            await self._progress.wait()

    async def close(self, *, drain: bool = True) -> None:
        """Stop taking events; hand on the queued ones (``drain``) or cancel the waves."""
        self._closed = True
        for handle in self._retrying.values():
            handle.cancel()
        self._retrying.clear()
        self._arrived.set()
        self._progress.set()
        tasks = [*self._waves, *([self._collector] if self._collector else [])]
        if not drain:
            for task in tasks:
                task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if drain:
            # A wave that ended after the collector stopped may have left nothing; be sure.
            for task in list(self._waves):
                with contextlib.suppress(asyncio.CancelledError):
                    await task
