"""The daily licence check in the daemon: at a configured UTC time, on the leader only.

The last check's time comes from the store's history, so a daemon restarted after the
day's time (or down over it) catches up once, and two replicas never both run it: only
the lease holder does, alone (re-checks and passes wait, as for a full reconciliation).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import structlog

from offboard.ports import Clock, OffboardError
from offboard.service.gate import PassGate

log = structlog.get_logger(__name__)
RETRY_AFTER_FAILURE = timedelta(hours=1)


def next_due(last: datetime | None, now: datetime, at: time) -> datetime:
    """When the next check is due: the first daily time after the last check.

    With no check yet, today's time (which may already have passed: then it is due now).
    """
    today = datetime.combine(now.date(), at, tzinfo=now.tzinfo)
    if last is None:
        return today
    due = datetime.combine(last.date(), at, tzinfo=now.tzinfo)
    return due if due > last else due + timedelta(days=1)


@dataclass
class DailyLicenceCheck:
    """Runs ``check`` once a day at ``at`` (UTC) while ``leader()`` holds."""

    check: Callable[[], Awaitable[object]]
    last_check: Callable[[], datetime | None]
    at: time
    clock: Clock

    async def run(
        self, stopping: asyncio.Event, leader: Callable[[], bool], gate: PassGate
    ) -> None:
        failed_at: datetime | None = None
        while not stopping.is_set():
            now = self.clock.now()
            due = next_due(self.last_check(), now, self.at)
            if failed_at is not None:
                due = max(due, failed_at + RETRY_AFTER_FAILURE)
            if due > now:
                await _sleep(stopping, min((due - now).total_seconds(), 300.0))
                continue
            if not leader():
                await _sleep(stopping, 30.0)
                continue
            failed_at = await self._once(gate)

    async def _once(self, gate: PassGate) -> datetime | None:
        """One check; the time it failed at (None when it succeeded)."""
        async with gate.exclusive():
            try:
                await self.check()
            except Exception as error:
                detail = str(error) if isinstance(error, OffboardError) else type(error).__name__
                log.error("licence check failed", error=detail)
                return self.clock.now()
        log.info("licence check done")
        return None


async def _sleep(stopping: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), timeout=max(seconds, 0.0))
