"""Notifications when a human is needed: what to send, to which channel, and when. Pure.

A *condition* is one thing that needs a human (a hold, a blocked person, a failed action...),
named by a stable key. The service finds the conditions that hold now; :func:`decide`
compares them with what the store remembers and says which to open (notify), which to keep
quiet about (already notified), and which cleared (forgotten, so a return notifies again).
The text says what happened and what to do, with the exact command; never a secret.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from offboard.core.printable import printable


class Kind(StrEnum):
    """What needs a human; each channel is told the kinds it wants."""

    HOLD = "hold"
    GUARD_TRIP = "guard-trip"
    BLOCKED_PERSON = "blocked-person"
    FAILED_ACTION = "failed-action"
    CREDENTIAL_EXPIRY = "credential-expiry"
    NOT_READY = "not-ready"
    DIGEST = "digest"
    TEST = "test"


URGENCY = (Kind.TEST, Kind.HOLD, Kind.NOT_READY, Kind.CREDENTIAL_EXPIRY, Kind.GUARD_TRIP,
           Kind.FAILED_ACTION, Kind.BLOCKED_PERSON, Kind.DIGEST)  # fmt: skip
"""The order messages are sent in when the rate limit lets only some through: a credential
about to expire or a daemon that is not ready never waits behind a flood of blocked people."""


@dataclass(frozen=True, slots=True)
class Condition:
    """One thing that needs a human now."""

    kind: Kind
    key: str
    """Stable while the condition lasts (``hold:deprovisioning:12``): the de-duplication key."""
    title: str
    details: tuple[str, ...] = ()
    todo: tuple[str, ...] = ()
    """What to do, commands included; never a secret."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", bounded_key(self.key))


MAX_KEY = 200
"""Keys are stored (``notifications.key``, 400 characters); longer ones keep their start,
readable, and a digest of the whole, still unique."""


def bounded_key(key: str) -> str:
    """``key`` itself when short enough, else its start and a SHA-256 of the whole."""
    if len(key) <= MAX_KEY:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"{key[: MAX_KEY - 34]}:{digest}"


@dataclass(frozen=True, slots=True)
class Record:
    """What the store remembers of one condition on one channel."""

    key: str
    channel: str
    kind: str
    opened_at: datetime
    last_seen_at: datetime
    sent_at: datetime | None = None
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of :func:`decide`."""

    open: tuple[Record, ...] = ()
    """New (condition, channel) pairs to remember, not yet sent."""
    due: tuple[tuple[str, Condition], ...] = ()
    """(channel, condition) to send now: opened and not yet sent, within the attempt cap."""
    seen: tuple[str, ...] = ()
    """Keys still holding: their ``last_seen_at`` moves to now."""
    cleared: tuple[tuple[str, str], ...] = ()
    """(key, channel) to forget: the condition cleared, a return notifies again."""


@dataclass(frozen=True, slots=True)
class Routing:
    """Which kinds go to which channel, and the clearing rules."""

    channels: Mapping[str, frozenset[Kind]]
    max_attempts: int = 5
    """Ticks a failing delivery is tried before it is given up (logged, metered)."""
    forget_after: timedelta = timedelta(days=7)
    """A condition not seen for this long clears even where absence proves nothing."""


def decide(
    conditions: Iterable[Condition],
    records: Iterable[Record],
    routing: Routing,
    now: datetime,
    *,
    authoritative: frozenset[str] = frozenset(),
    resolved: frozenset[str] = frozenset(),
) -> Decision:
    """Open what is new, send what is due (most urgent first), clear what went away.

    A remembered condition absent now clears when its kind is in ``authoritative`` (the
    daemon has the whole picture of that kind: absence proves it), when its key is in
    ``resolved`` (positive evidence, e.g. the action later succeeded), or when it was not
    seen for ``routing.forget_after``. Anything else stays: a restarted daemon that does
    not know yet says nothing, rather than forgetting and notifying again.
    """
    current = {c.key: c for c in conditions}
    known = {(r.key, r.channel): r for r in records}
    opened: list[Record] = []
    due: list[tuple[str, Condition]] = []
    for condition in current.values():
        for channel, kinds in sorted(routing.channels.items()):
            if condition.kind not in kinds:
                continue
            record = known.get((condition.key, channel))
            if record is None:
                opened.append(Record(condition.key, channel, condition.kind, now, now))
                due.append((channel, condition))
            elif record.sent_at is None and record.attempts < routing.max_attempts:
                due.append((channel, condition))
    due.sort(key=lambda pair: URGENCY.index(pair[1].kind))  # stable: found order within a kind
    cleared = [
        (r.key, r.channel)
        for r in known.values()
        if r.key not in current
        and (r.kind in authoritative or r.key in resolved or _stale(r, routing, now))
    ]
    return Decision(tuple(opened), tuple(due), tuple(sorted(current)), tuple(cleared))


def _stale(record: Record, routing: Routing, now: datetime) -> bool:
    return now - record.last_seen_at > routing.forget_after


def allowance(sent: Sequence[datetime], now: datetime, limit: int, period: timedelta) -> int:
    """How many more messages a channel may send now: ``limit`` per sliding ``period``."""
    recent = sum(1 for at in sent if now - at < period)
    return max(limit - recent, 0)


def digest_due(last: str | None, now: datetime, at: tuple[int, int] | None) -> str | None:
    """Today's digest id (``digest:YYYY-MM-DD``) when it is due and not sent yet, else None."""
    if at is None:
        return None
    today = f"digest:{now.date().isoformat()}"
    if last == today or (now.hour, now.minute) < at:
        return None
    return today


def digest(conditions: Sequence[Condition], day_key: str) -> Condition:
    """One message listing everything that needs a human, each with what to do."""
    details: list[str] = []
    for condition in conditions:
        details.append(f"- [{condition.kind}] {condition.title}")
        details.extend(f"    {line}" for line in condition.todo)
    title = f"{len(conditions)} thing(s) need a human"
    return Condition(Kind.DIGEST, day_key, title, tuple(details))


BATCHED_KINDS = {Kind.BLOCKED_PERSON: "people wait for a human",
                 Kind.FAILED_ACTION: "actions failed or did not read back"}  # fmt: skip
"""The kinds that come by the dozen (an import, an outage): told as one message to humans."""
BATCH_OVER = 5
"""More due at once than this, of one batched kind, on one channel: one message."""
BATCH_SHOWN = 20


def batches(due: Sequence[Condition]) -> list[tuple[Condition, tuple[Condition, ...]]]:
    """``due`` (most urgent first) as messages: each condition alone, except a batched kind
    with more than :data:`BATCH_OVER` due, which becomes one message listing them (at the
    place of the first). Each message comes with the conditions it tells."""
    counts: dict[Kind, int] = {}
    for condition in due:
        counts[condition.kind] = counts.get(condition.kind, 0) + 1
    grouped = {kind for kind, n in counts.items() if kind in BATCHED_KINDS and n > BATCH_OVER}
    messages: list[tuple[Condition, tuple[Condition, ...]]] = []
    for condition in due:
        if condition.kind not in grouped:
            messages.append((condition, (condition,)))
        elif not any(message.kind == condition.kind for message, _ in messages):
            members = tuple(c for c in due if c.kind == condition.kind)
            messages.append((_batch(condition.kind, members), members))
    return messages


def _batch(kind: Kind, members: Sequence[Condition]) -> Condition:
    shown = [f"- {c.title}" for c in members[:BATCH_SHOWN]]
    if len(members) > BATCH_SHOWN:
        shown.append(f"- and {len(members) - BATCH_SHOWN} more")
    todo = tuple(dict.fromkeys(step for c in members for step in c.todo))[:6]
    title = f"{len(members)} {BATCHED_KINDS[kind]}"
    return Condition(kind, f"batch:{kind}:{members[0].key}", title, tuple(shown), todo)


@dataclass(frozen=True, slots=True)
class Text:
    """A notification as words: a subject and a plain-text body."""

    subject: str
    body: str


def render(condition: Condition, console_url: str | None = None) -> Text:
    """The subject and body every channel sends (Slack and the webhook carry both).

    Each title, detail and step is one line whatever it holds: an email, a vendor's error
    text or a reason with a line break can neither forge a line of its own (a fake "What to
    do") nor break the mail's Subject header (which would refuse the whole message): an
    invisible character is shown as its escape (``\\x0a``), as the command line shows it."""
    title = printable(condition.title)
    lines = [title, "", *map(printable, condition.details)]
    if condition.todo:
        lines += ["", "What to do:", *(f"  {printable(step)}" for step in condition.todo)]
    if console_url:
        lines += ["", f"Console: {printable(console_url)}"]
    body = "\n".join(line for line in _squeeze(lines))
    return Text(f"[offboard] {title}", body)


def _squeeze(lines: list[str]) -> list[str]:
    """No two blank lines in a row, none at the ends."""
    kept: list[str] = []
    for line in lines:
        if not line and (not kept or not kept[-1]):
            continue
        kept.append(line)
    while kept and not kept[-1]:
        kept.pop()
    return kept
