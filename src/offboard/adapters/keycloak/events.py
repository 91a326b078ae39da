"""Polling Keycloak's admin events and user events into ``IdentityEvent`` hints.

Events are ordered by millisecond only and may land in the store after a concurrent read, so
every poll starts ``overlap`` before the cursor and drops the ids it has already returned.
The cursor is an opaque JSON string: the newest time seen per stream and the recent ids.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import structlog
from pydantic import BaseModel, Field, TypeAdapter

from offboard.adapters.keycloak.admin_hints import (
    ADMIN_QUERY,
    RELEVANT_ADMIN_OPERATIONS,
    hints_from_admin,
)
from offboard.adapters.keycloak.requests import AdminReader, Query
from offboard.adapters.keycloak.wire import ADMIN_EVENTS, USER_EVENTS, AdminEventRep, UserEventRep
from offboard.core.identities import IdentityId
from offboard.ports import CheckResult, IdentityEvent, PermanentError

log = structlog.get_logger(__name__)

USER_EVENT_TYPES = (
    "DELETE_ACCOUNT",
    "USER_DISABLED_BY_PERMANENT_LOCKOUT",
    "USER_DISABLED_BY_TEMPORARY_LOCKOUT",
)
USER_QUERY: Query = {"type": list(USER_EVENT_TYPES), "direction": "asc"}
ATTRIBUTE_SCOPE_EVENT_TYPES = ("UPDATE_PROFILE",)
"""Also read under ``keycloak.scope_attribute``: a user who edits the scope attribute in the
account console leaves the scope with this user event only (no admin event)."""


def user_event_types(*, attribute_scope: bool) -> tuple[str, ...]:
    """The user event types the poller reads (and the self-check wants saved)."""
    return USER_EVENT_TYPES + (ATTRIBUTE_SCOPE_EVENT_TYPES if attribute_scope else ())


EventT = TypeVar("EventT", AdminEventRep, UserEventRep)
TIED_PAGE_SIZE = 1000
"""Page size when one millisecond is read again by itself (its events have no order)."""
RECENT_IDS_KEPT = 2000
"""Ids remembered per cursor; must exceed the events one overlap window can hold."""


@dataclass(slots=True)
class EventCursor:
    """Where each stream stands (epoch millis) and the ids already returned near there."""

    admin_ms: int
    user_ms: int
    seen: list[str] = field(default_factory=list)

    def dump(self) -> str:
        return json.dumps({"v": 1, "admin": self.admin_ms, "user": self.user_ms, "seen": self.seen})

    @classmethod
    def load(cls, text: str) -> EventCursor:
        data = _StoredCursor.model_validate_json(text)
        return cls(data.admin, data.user, list(data.seen))


class _StoredCursor(BaseModel):
    admin: int
    user: int
    seen: list[str] = Field(default_factory=list)


class EventPoller:
    """Turns both event streams into de-duplicated ``IdentityEvent``s, oldest first."""

    def __init__(
        self,
        reader: AdminReader,
        *,
        now: Callable[[], datetime],
        overlap: timedelta = timedelta(minutes=2),
        page_size: int = 100,
        group_scope: bool = False,
        keycloak_behind: Callable[[], float | None] = lambda: None,
        attribute_scope: bool = False,
    ) -> None:
        self._reader = reader
        self._group_scope = group_scope
        self._keycloak_behind = keycloak_behind
        types = user_event_types(attribute_scope=attribute_scope)
        self._user_query: Query = {**USER_QUERY, "type": list(types)}
        """Seconds Keycloak's clock runs behind ours (from its tokens), None until known."""
        """Whether a group deleted or renamed can take people out of scope."""
        self._now = now
        self._overlap_ms = int(overlap.total_seconds() * 1000)
        self._page_size = page_size
        self.realm_id: str | None = None
        """The realm's internal id, from the first event read that carries it: known without
        ``view-realm`` (which the realm read needs), for webhooks about other realms."""
        self.day_dates = False
        """True once the server refused epoch-millisecond dates (Keycloak 26.0/26.1)."""

    async def events_since(self, cursor: str | None) -> tuple[list[IdentityEvent], str]:
        """Events after the cursor (minus overlap); a new poller starts at now − overlap."""
        if cursor is None:
            # Keycloak's "now", not ours: from ours, a Keycloak clock minutes behind put the
            # first window after its events, and they were dropped until one caught up.
            behind = await self._behind()
            start = int((self._now().timestamp() - behind) * 1000)
            state = EventCursor(start, start)
        else:
            state = EventCursor.load(cursor)
        seen = set(state.seen)
        admin = await self._pages("admin-events", ADMIN_QUERY, state.admin_ms, ADMIN_EVENTS)
        user = await self._pages("events", self._user_query, state.user_ms, USER_EVENTS)
        if self.realm_id is None:
            read: list[AdminEventRep | UserEventRep] = [*admin, *user]
            self.realm_id = next((event.realmId for event in read if event.realmId), None)
        scoped = self._group_scope
        found = [hint for event in admin for hint in hints_from_admin(event, group_scope=scoped)]
        found += [e for e in map(_from_user, user) if e is not None]
        fresh = [event for event in found if event.event_id not in seen]
        fresh.sort(key=lambda event: event.occurred_at)
        fresh = _on_our_clock(fresh, self._keycloak_behind())
        new_state = EventCursor(
            max([state.admin_ms, *(event.time for event in admin)]),
            max([state.user_ms, *(event.time for event in user)]),
            (state.seen + [event.event_id for event in fresh])[-RECENT_IDS_KEPT:],
        )
        return fresh, new_state.dump()

    async def _behind(self) -> float:
        """The skew, after one small read if no token was fetched yet (it measures it)."""
        if self._keycloak_behind() is None:
            await self._reader.read("admin-events", ADMIN_EVENTS, {"max": 1})
        return self._keycloak_behind() or 0.0

    async def _pages(
        self, path: str, query: Query, since_ms: int, adapter: TypeAdapter[list[EventT]]
    ) -> list[EventT]:
        date_from = max(0, since_ms - self._overlap_ms)
        if not self.day_dates:
            try:
                return await self._read_all(path, query, str(date_from), adapter)
            except PermanentError as error:
                if error.status != 400:
                    raise
                self._fall_back_to_day_dates(error)
        # Keycloak before 26.2: dates by day and newest first whatever ``direction`` says.
        # Read the whole day, keep what is recent enough, and order it here.
        day = datetime.fromtimestamp(date_from / 1000, tz=UTC).date().isoformat()
        events = await self._read_all(path, query, day, adapter)
        return sorted((e for e in events if e.time >= date_from), key=lambda e: e.time)

    async def _read_all(
        self, path: str, query: Query, date_from: str, adapter: TypeAdapter[list[EventT]]
    ) -> list[EventT]:
        events, cut = await self._paged(path, query, {"dateFrom": date_from}, adapter)
        if not cut or self.day_dates:
            return events
        # Keycloak orders events by time alone: a millisecond's events cut by a page boundary
        # come in a new order at each page's query, so one can show on both pages and another
        # on neither, and be lost for good once the cursor passes the overlap (a long
        # catch-up). Each such millisecond is read again whole, by itself.
        for millis in sorted(cut):
            alone = {"dateFrom": str(millis), "dateTo": str(millis)}
            again, _ = await self._paged(path, query, alone, adapter, TIED_PAGE_SIZE)
            events.extend(again)
        unique = {_identity(event): event for event in events}
        return sorted(unique.values(), key=lambda event: event.time)

    async def _paged(
        self,
        path: str,
        query: Query,
        dates: Query,
        adapter: TypeAdapter[list[EventT]],
        page_size: int | None = None,
    ) -> tuple[list[EventT], set[int]]:
        """Every page from the first; and the milliseconds a page boundary fell inside."""
        size = page_size or self._page_size
        events: list[EventT] = []
        cut: set[int] = set()
        offset = 0
        while True:
            params = {**query, **dates, "first": offset, "max": size}
            page = await self._reader.read(path, adapter, params)
            if events and page and page[0].time == events[-1].time:
                cut.add(page[0].time)
            events.extend(page)
            if len(page) < size:
                return events, cut
            offset += size

    def _fall_back_to_day_dates(self, error: PermanentError) -> None:
        """Epoch-millisecond dates and ``direction`` arrived in Keycloak 26.2; an older
        server refuses them with 400. Said once, loudly: polls go on by day."""
        self.day_dates = True
        log.warning(
            "Keycloak refused epoch-millisecond event dates (it is older than 26.2): "
            "reading events by day and ordering them here; upgrade to 26.2 or later",
            error=str(error)[:200],
        )


def _identity(event: AdminEventRep | UserEventRep) -> str:
    """What tells two events apart: the id Keycloak gives, else the whole event."""
    return event.id or event.model_dump_json()


def _on_our_clock(events: list[IdentityEvent], behind: float | None) -> list[IdentityEvent]:
    """Events dated on offboard's clock: a person re-read at 10:00:00 by ours and disabled
    a second later, by a Keycloak 5 s behind, is stamped 09:59:56 and was taken as already
    read (a leaver skipped until the next full reconciliation)."""
    if not behind:
        return events
    shift = timedelta(seconds=behind)
    return [replace(event, occurred_at=event.occurred_at + shift) for event in events]


def _from_user(event: UserEventRep) -> IdentityEvent | None:
    if not event.userId:
        return None
    kind = f"user:{event.type}"
    return _event(event.userId, event.id or f"{event.time}:{kind}:{event.userId}", event.time, kind)


def _event(user_id: str, event_id: str, millis: int, kind: str) -> IdentityEvent:
    occurred = datetime.fromtimestamp(millis / 1000, tz=UTC)
    return IdentityEvent(IdentityId(user_id), event_id, occurred, kind)


def events_kinds() -> Sequence[str]:
    """The kinds this poller can return, for documentation and metrics labels."""
    admin = (
        f"admin:{resource}:{operation}"
        for resource, operations in sorted(RELEVANT_ADMIN_OPERATIONS.items())
        for operation in sorted(operations)
    )
    return (*admin, *(f"user:{t}" for t in USER_EVENT_TYPES))


async def event_query_check(reader: AdminReader, now: datetime) -> CheckResult:
    """Epoch-millisecond dates and ``direction`` arrived in Keycloak 26.2: say which kind of
    server this is, and what the poller does about it (never a silent failure)."""
    since = str(int(now.timestamp() * 1000) - 60_000)
    params: Query = {**ADMIN_QUERY, "dateFrom": since, "max": 1}
    try:
        await reader.read("admin-events", ADMIN_EVENTS, params)
    except PermanentError as error:
        if error.status != 400:
            detail = f"not checked: {error}"
            return CheckResult("assume.event_queries", True, detail, warning=True)
        detail = (
            "Keycloak older than 26.2 refuses epoch-millisecond event dates: the poller "
            "reads events by day and orders them itself [documented]"
        )
        fix = "upgrade Keycloak to 26.2 or later for exact event windows"
        return CheckResult("assume.event_queries", True, detail, fix, warning=True)
    detail = "epoch-millisecond dates and direction=asc accepted (Keycloak 26.2+) [documented]"
    return CheckResult("assume.event_queries", True, detail)
