"""The daemon's retention: the leader forgets what is older than ``store.retention``.

What goes and what never does is ``offboard.store.retention``'s to say. Here: only the
leader prunes (two replicas deleting the same rows would only wait on each other), once
shortly after it starts and then every hour, one batch at a time in a worker thread (a
store call never runs on the event loop), with a pause between batches so the passes'
writes get their turn. A store from before retention is worked through in its first round;
a failure is logged and tried again at the next round, and never stops the daemon.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from offboard.ports import Clock
from offboard.service.outages import describe
from offboard.store.retention import Pruned

log = structlog.get_logger(__name__)

PruneStep = Callable[[datetime, datetime], Pruned]
"""One batch of each kind older than the cutoff (first), sessions ended by now (second)."""


@dataclass
class StorePruning:
    """Runs ``step`` on the leader until a step forgets nothing, every ``every`` seconds."""

    step: PruneStep
    retention: timedelta
    clock: Clock
    every: float = 3600.0
    first_after: float = 120.0
    """Seconds after the start: the first full pass (and a take-over's) goes first."""
    pause: float = 0.2
    """Seconds between two batches."""

    async def run(self, stopping: asyncio.Event, leader: Callable[[], bool]) -> None:
        await _sleep(stopping, self.first_after)
        while not stopping.is_set():
            if leader():
                try:
                    await self.once(leader, stopping)
                except Exception as error:  # retention must never stop the daemon
                    log.warning("store pruning failed; tried again later", error=describe(error))
            await _sleep(stopping, self.every)

    async def once(
        self, leader: Callable[[], bool], stopping: asyncio.Event | None = None
    ) -> Pruned:
        """Batches while this replica leads, until one forgets nothing; what was forgotten."""
        total = Pruned()
        while leader() and not (stopping is not None and stopping.is_set()):
            now = self.clock.now()
            step = await asyncio.to_thread(self.step, now - self.retention, now)
            total += step
            if not step.total:
                break
            await _sleep(stopping, self.pause)
        if total.total:
            log.info("store pruned", retention=str(self.retention), **dataclasses.asdict(total))
        return total


async def _sleep(stopping: asyncio.Event | None, seconds: float) -> None:
    if stopping is None:
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), timeout=max(seconds, 0.0))
