"""The admin-event poller: turns Keycloak admin events into per-user re-checks.

Each poll asks the source for events after the stored cursor (the source keeps an overlap,
so the same event may come twice: ids already seen are dropped), queues one re-check hint per
event and then stores the new cursor. A crash between the two loses nothing for long: the
daemon runs a full reconciliation at start, and reconciliation is the authority anyway.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from offboard.intake.webhooks import ReplayFilter
from offboard.ports import Clock, IdentityEvent

ADMIN_EVENTS_CURSOR = "keycloak.admin-events"


class EventSource(Protocol):
    """The part of ``IdentitySource`` the poller uses."""

    async def events_since(
        self, cursor: str | None
    ) -> tuple[Sequence[IdentityEvent], str | None]: ...


class Cursors(Protocol):
    """The part of ``Store`` the poller uses."""

    def cursor(self, name: str) -> str | None: ...

    def set_cursor(self, name: str, value: str) -> None: ...


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one poll found."""

    received: int
    queued: int
    newest_event_at: datetime | None
    lag_seconds: float | None
    """Age of the newest new event when it was read: how far behind Keycloak intake is."""


class EventPoller:
    """Polls ``source.events_since`` and hands each new event to ``submit``."""

    def __init__(
        self,
        source: EventSource,
        store: Cursors,
        submit: Callable[[IdentityEvent], object],
        clock: Clock,
        *,
        cursor_name: str = ADMIN_EVENTS_CURSOR,
    ) -> None:
        self._source = source
        self._store = store
        self._submit = submit
        self._clock = clock
        self._cursor_name = cursor_name
        self._seen = ReplayFilter(capacity=50_000)

    async def poll_once(self) -> PollResult:
        """One poll: read, de-duplicate, queue, then persist the cursor (the store is asked
        off the event loop: a hung store must not stall the listeners)."""
        cursor = await asyncio.to_thread(self._store.cursor, self._cursor_name)
        events, new_cursor = await self._source.events_since(cursor)
        fresh = [event for event in events if self._seen.first_time(event.event_id)]
        for event in fresh:
            self._submit(event)
        if new_cursor is not None and new_cursor != cursor:
            await asyncio.to_thread(self._store.set_cursor, self._cursor_name, new_cursor)
        newest = max((event.occurred_at for event in fresh), default=None)
        # Never below zero: events are dated with Keycloak's skew, over-stated by up to a
        # second (its tokens' whole-second iat), so a fresh one can land just after now.
        lag = None if newest is None else max((self._clock.now() - newest).total_seconds(), 0.0)
        return PollResult(len(events), len(fresh), newest, lag)
