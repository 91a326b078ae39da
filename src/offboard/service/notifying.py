"""The daemon's notifications: find what needs a human, decide, send, remember.

Only the leader runs a check (every ``check_every``). It reads the conditions from what the
daemon knows (:class:`~offboard.service.status.DaemonStatus`), lets the pure
``core.notifications.decide`` compare them with what the store remembers, and sends through
the configured channels within each channel's rate limit. A failed delivery is retried a
few times at once and at later checks up to ``max_attempts``; it is logged and metered, and
never stops the daemon.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Protocol

import structlog

from offboard.core.credentials import expiry_notice
from offboard.core.notice_conditions import (
    blocked_person_condition,
    expiry_condition,
    failed_action_condition,
    guard_trip_condition,
    hold_condition,
    not_ready_condition,
    refused_account_condition,
)
from offboard.core.notifications import (
    Condition,
    Kind,
    Record,
    Routing,
    Text,
    allowance,
    batches,
    decide,
    digest,
    digest_due,
    render,
)
from offboard.core.plan import EntryStatus
from offboard.ports import Clock, PermanentError
from offboard.service.outages import describe
from offboard.service.status import DaemonStatus

log = structlog.get_logger(__name__)

QUICK_RETRIES = 3
"""Tries of one delivery within a check (waits 0.5 s, then 1 s)."""
_FAILED_OUTCOMES = frozenset({"failed", "mismatch"})


class Channel(Protocol):
    """One way to reach a human (an adapter, or a mail wrapper)."""

    name: str

    async def send(self, condition: Condition, text: Text) -> None: ...


class NotificationState(Protocol):
    """What the store remembers (``store.notifications``)."""

    def records(self) -> list[Record]: ...
    def open(self, records: Iterable[Record]) -> None: ...
    def seen(self, keys: Iterable[str], at: datetime) -> None: ...
    def sent(self, key: str, channel: str, at: datetime) -> None: ...
    def failed(self, key: str, channel: str) -> None: ...
    def clear(self, pairs: Iterable[tuple[str, str]]) -> None: ...


@dataclass(frozen=True, slots=True)
class NotifyConfig:
    """Filled from ``[notifications]``."""

    routing: Routing
    readiness_limits: Mapping[str, timedelta]
    console_url: str | None = None
    check_every: float = 30.0
    not_ready_after: timedelta = timedelta(minutes=15)
    rate_limit: int = 20
    rate_period: timedelta = timedelta(hours=1)
    digest_at: time | None = None
    retry_wait: float = 0.5
    batch_channels: frozenset[str] = frozenset({"email", "slack"})
    """Channels read by humans: many blocked people or failed actions at once are one
    message there (the signed webhook keeps one per condition, one ticket each)."""


@dataclass
class Counters:
    """Where deliveries are counted (the server layer's Prometheus counters)."""

    sent: Callable[[str, str], None] = lambda channel, kind: None
    failed: Callable[[str, str], None] = lambda channel, kind: None


@dataclass
class Found:
    """The conditions of one check, and what proves others cleared."""

    conditions: list[Condition] = field(default_factory=list)
    authoritative: set[str] = field(default_factory=set)
    resolved: set[str] = field(default_factory=set)


class Notifications:
    """One check at a time (:meth:`check`), on the leader (:meth:`run`)."""

    def __init__(
        self,
        status: DaemonStatus,
        state: NotificationState,
        channels: Mapping[str, Channel],
        config: NotifyConfig,
        clock: Clock,
        counters: Counters | None = None,
    ) -> None:
        self.status, self.state, self.channels = status, state, dict(channels)
        self.config, self.clock = config, clock
        self.counters = counters or Counters()
        self._sent: dict[str, deque[datetime]] = {name: deque() for name in self.channels}
        self._not_ready_since: datetime | None = None

    async def run(self, stopping: asyncio.Event, leader: Callable[[], bool]) -> None:
        """Check every ``check_every`` while ``leader()``; a failing check is logged only."""
        while not stopping.is_set():
            if leader():
                try:
                    await self.check(leader)
                except Exception as error:  # notifications must never stop the daemon
                    log.warning("notification check failed", error=describe(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self.config.check_every)

    def find(self, now: datetime) -> Found:
        """Every condition that needs a human now, from what the daemon knows."""
        found = Found()
        self._holds(found)
        self._blocked_people(found)
        self._failed_actions(found)
        self._credentials(found, now)
        self._not_ready(found, now)
        return found

    async def check(self, leader: Callable[[], bool] = lambda: True) -> list[tuple[str, str]]:
        """Decide and send; returns the (channel, key) pairs delivered. ``leader`` is asked
        before each delivery: a replica that lost the lease mid-check sends nothing more."""
        now = self.clock.now()
        found = self.find(now)
        records = self.state.records()
        decision = decide(
            found.conditions, records, self.config.routing, now,
            authoritative=frozenset(found.authoritative), resolved=frozenset(found.resolved),
        )  # fmt: skip
        self.state.open(decision.open)
        self.state.seen(decision.seen, now)
        self.state.clear(decision.cleared)
        due = list(decision.due)
        due += self._digest(found.conditions, records, now)
        return await self._deliver(due, now, leader)

    def _digest(
        self, conditions: list[Condition], records: list[Record], now: datetime
    ) -> list[tuple[str, Condition]]:
        at = self.config.digest_at
        last = max((r.key for r in records if r.key.startswith("digest:")), default=None)
        day = digest_due(last, now, (at.hour, at.minute) if at else None)
        if day is None or not conditions:
            return []
        # Each channel's digest lists only the kinds it is told: a chat channel kept to
        # holds (no people's emails in it) does not get every blocked person once a day.
        wanted = self.config.routing.channels
        messages = {
            name: digest(mine, day)
            for name in self.channels
            if (mine := [c for c in conditions if c.kind in wanted.get(name, frozenset())])
        }
        self.state.open(Record(day, name, Kind.DIGEST, now, now) for name in messages)
        return list(messages.items())

    async def _deliver(
        self, due: list[tuple[str, Condition]], now: datetime, leader: Callable[[], bool]
    ) -> list[tuple[str, str]]:
        delivered: list[tuple[str, str]] = []
        for name, channel in self.channels.items():
            sent = self._sent[name]
            left = allowance(sent, now, self.config.rate_limit, self.config.rate_period)
            mine = [condition for channel_name, condition in due if channel_name == name]
            grouped = (
                batches(mine)
                if name in self.config.batch_channels
                else [(condition, (condition,)) for condition in mine]
            )
            for message, told in grouped[:left]:
                if not leader():
                    return delivered  # the next leader reads the store and sends the rest
                if await self._send(channel, message):
                    for condition in told:
                        self.state.sent(condition.key, name, now)
                        delivered.append((name, condition.key))
                    sent.append(now)
                else:
                    for condition in told:
                        self.state.failed(condition.key, name)
            while sent and now - sent[0] >= self.config.rate_period:
                sent.popleft()
        return delivered

    async def _send(self, channel: Channel, condition: Condition) -> bool:
        text = render(condition, self.config.console_url)
        for attempt in range(1, QUICK_RETRIES + 1):
            try:
                await channel.send(condition, text)
            except Exception as error:
                final = isinstance(error, PermanentError) or attempt == QUICK_RETRIES
                if final:
                    log.warning("notification not delivered", channel=channel.name,
                                kind=str(condition.kind), error=describe(error))  # fmt: skip
                    self.counters.failed(channel.name, str(condition.kind))
                    return False
                await asyncio.sleep(self.config.retry_wait * attempt)
            else:
                log.info("notification sent", channel=channel.name, kind=str(condition.kind))
                self.counters.sent(channel.name, str(condition.kind))
                return True
        return False  # pragma: no cover (the loop returns)

    def _holds(self, found: Found) -> None:
        guards = self.status.guards
        if guards is None:
            return  # not read yet: absence proves nothing
        found.authoritative.add(Kind.HOLD)
        holds = [h for h in (guards.hold, *guards.other_holds) if h is not None]
        found.conditions += [hold_condition(hold) for hold in holds]
        if self.status.last_full is None:
            return
        found.authoritative.add(Kind.GUARD_TRIP)
        if guards.hold is not None:
            return  # the hold's message names the guards that put it
        for blocked in self.status.blocked.values():
            found.conditions.append(
                guard_trip_condition(blocked.scope, blocked.guards, blocked.messages)
            )

    def _blocked_people(self, found: Found) -> None:
        last = self.status.last_full
        if last is None or last.plan is None or not last.complete:
            return
        found.authoritative.add(Kind.BLOCKED_PERSON)
        for entry in last.plan.entries:
            if entry.status is EntryStatus.BLOCKED:
                found.conditions.append(blocked_person_condition(entry))

    def _failed_actions(self, found: Found) -> None:
        """The newest outcome of each recent action: failed or refused ones need a human;
        one that went through since resolves both (positive evidence)."""
        seen: set[str] = set()
        for action in self.status.actions:  # newest first
            if action.key in seen:
                continue
            seen.add(action.key)
            if action.outcome in _FAILED_OUTCOMES:
                found.conditions.append(failed_action_condition(
                    action.key, action.kind, action.email, action.outcome, action.detail
                ))  # fmt: skip
            elif action.outcome == "blocked":
                found.conditions.append(refused_account_condition(
                    action.key, action.kind, action.email, action.detail
                ))  # fmt: skip
            else:
                found.resolved |= {f"failed:{action.key}", f"refused:{action.key}"}

    def _credentials(self, found: Found, now: datetime) -> None:
        found.authoritative.add(Kind.CREDENTIAL_EXPIRY)
        for name, expires_on in sorted(self.status.credential_expiry.items()):
            notice = expiry_notice(name, expires_on, now.date())
            if notice is not None:
                found.conditions.append(expiry_condition(notice))

    def _not_ready(self, found: Found, now: datetime) -> None:
        reasons = self.status.not_ready_reasons(self.config.readiness_limits)
        if not reasons:
            self._not_ready_since = None
            found.authoritative.add(Kind.NOT_READY)  # ready: the condition cleared
            return
        since = self._not_ready_since = self._not_ready_since or now
        condition = not_ready_condition(since, now, self.config.not_ready_after, reasons)
        if condition is not None:
            found.conditions.append(condition)
