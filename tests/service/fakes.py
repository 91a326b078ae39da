"""In-memory fakes of the ports the daemon uses (cursors, leases, events, passes)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from offboard.core.identities import IdentityId
from offboard.core.plan import GuardName, GuardResult, Plan
from offboard.ports import Fence, IdentityEvent
from offboard.service.passes import ActionReport, PassReport

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, start: datetime = T0) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


class WallClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class LeaseRow:
    holder: str
    expires: datetime
    token: int = 1


class FakeStore:
    """The cursor and lease part of the Store contract, with the documented semantics."""

    def __init__(self) -> None:
        self.cursors: dict[str, str] = {}
        self.leases: dict[str, LeaseRow] = {}
        self.fail_leases = False

    def cursor(self, name: str) -> str | None:
        return self.cursors.get(name)

    def set_cursor(self, name: str, value: str) -> None:
        self.cursors[name] = value

    def acquire_lease(self, name: str, holder: str, ttl: timedelta, now: datetime) -> bool:
        if self.fail_leases:
            raise OSError("database is locked")
        row = self.leases.get(name)
        if row is not None and row.holder != holder and row.expires > now:
            return False
        renewal = row is not None and row.holder == holder and row.expires > now
        token = (row.token if renewal else row.token + 1) if row is not None else 1
        self.leases[name] = LeaseRow(holder, now + ttl, token)
        return True

    def release_lease(self, name: str, holder: str) -> None:
        row = self.leases.get(name)
        if row is not None and row.holder == holder:
            row.expires = datetime(1970, 1, 1, tzinfo=UTC)

    def fence_holds(self, fence: Fence, now: datetime) -> bool:
        return self.lease_token(fence.name, fence.holder, now) == fence.token

    def lease_token(self, name: str, holder: str, now: datetime) -> int | None:
        row = self.leases.get(name)
        if row is None or row.holder != holder or row.expires <= now:
            return None
        return row.token


class FakeSource:
    """``events_since`` over a list of events; the cursor is the index of the next event."""

    def __init__(self) -> None:
        self.events: list[IdentityEvent] = []
        self.overlap = 1
        self.fail = False

    def add(self, identity_id: str, at: datetime, event_id: str | None = None) -> IdentityEvent:
        event = IdentityEvent(
            IdentityId(identity_id), event_id or f"e{len(self.events)}", at, "admin:USER:UPDATE"
        )
        self.events.append(event)
        return event

    async def events_since(self, cursor: str | None) -> tuple[Sequence[IdentityEvent], str | None]:
        if self.fail:
            raise ConnectionError("keycloak down")
        start = max(int(cursor or 0) - self.overlap, 0)
        return self.events[start:], str(len(self.events))


def hint(identity_id: str, at: datetime, event_id: str = "w1") -> IdentityEvent:
    """A webhook-style hint that the source's event log does not hold."""
    return IdentityEvent(IdentityId(identity_id), event_id, at, "webhook:admin.USER-UPDATE")


def blocked_plan(at: datetime) -> Plan:
    guard = GuardResult(
        GuardName.MAX_DEACTIVATIONS, True, False, "30 > 25 deactivations; --override-guard", 30, 25
    )
    return Plan(created_at=at, actions=(), entries=(), guards=(guard,), fingerprint="x")


def passing_plan(at: datetime) -> Plan:
    return Plan(created_at=at, actions=(), entries=(), guards=(), fingerprint="y")


@dataclass
class FakePasses:
    """Records calls; a re-check deactivates (verified) unless told to block or fail."""

    clock: FakeClock | WallClock
    fulls: int = 0
    rechecks: list[str] = field(default_factory=list)
    running: set[str] = field(default_factory=set)
    overlaps: int = 0
    block: bool = False
    fail: bool = False
    delay: float = 0.0
    full_actions: tuple[ActionReport, ...] = ()
    waves: list[list[str]] = field(default_factory=list)
    unreadable: set[str] = field(default_factory=set)

    async def full(self) -> PassReport:
        self.fulls += 1
        start = self.clock.now()
        if self.fail:
            raise RuntimeError("boom with secret=hunter2")
        await asyncio.sleep(self.delay)
        plan = blocked_plan(start) if self.block else passing_plan(start)
        return PassReport("full", start, self.clock.now(), True, "r", plan, self.full_actions)

    async def recheck(self, identity_id: IdentityId) -> PassReport:
        if identity_id in self.running:
            self.overlaps += 1
        self.running.add(identity_id)
        self.rechecks.append(identity_id)
        start = self.clock.now()
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.running.discard(identity_id)
        if self.block:
            return PassReport("recheck", start, self.clock.now(), True, "r", blocked_plan(start))
        action = ActionReport(
            f"deactivate:{identity_id}:a",
            "deactivate",
            identity_id,
            "a",
            None,
            "verified",
            self.clock.now(),
            deprovisioning=True,
            read_back=True,
        )
        plan = passing_plan(start)
        return PassReport("recheck", start, self.clock.now(), True, "r", plan, (action,))

    async def wave(self, identity_ids: Sequence[IdentityId]) -> PassReport:
        """Each person as :meth:`recheck` would, in one report; ``unreadable`` are not read."""
        self.waves.append(list(identity_ids))
        start = self.clock.now()
        read = [i for i in identity_ids if i not in self.unreadable]
        reports = [await self.recheck(identity_id) for identity_id in read]
        unread = {i: "read failed (fake)" for i in identity_ids if i in self.unreadable}
        actions = tuple(action for report in reports for action in report.actions)
        plan = blocked_plan(start) if self.block else passing_plan(start)
        return PassReport("wave", start, self.clock.now(), True, "w", plan, actions, unread=unread)
