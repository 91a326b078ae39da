"""The reservations of one transaction, with each category's state read once.

A reservation reads the category's active hold, the last release of a hold, the slots spent
in each window and whether a released hold approved the action; then it spends its slots or
puts (or joins) the hold. An apply's concurrent actions share a transaction
(``Store.admit``), and there each of those reads is made once per category for the whole
batch and then kept up to date in memory with what the batch itself writes (a slot spent, a
hold put). Nothing else can change them meanwhile: the transaction holds the categories'
lock rows (``lock_category``), which every reservation and hold of the category takes first.
So the verdicts are exactly those of one transaction per request, in order
(``tests/store/test_budget.py`` checks both against each other).

Statements are what a batch costs: each is about a third of a millisecond of the one writer's
time (SQLAlchemy's building and binding more than SQLite's work), and at 50,000 people the
apply's commits were the slowest step. So a batch reads the hold and the last release in one
statement, every window in two (the counts, then the slots at the windows' edges), asks for
the releases that approve only when a release is recent enough to, and inserts the slots it
spent together at the end: five statements after the lock for a batch of any size, against
eleven for two requests before.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, case, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import BindParameter

from offboard.core.holds import BudgetRequest, BudgetVerdict, Waiting, budget_guard
from offboard.core.holds import window_full_message as full_message
from offboard.store.schema import budget_locks, budget_spend, hold_waiting, holds


def reserve_all(
    connection: Connection, requests: Sequence[BudgetRequest | None]
) -> list[BudgetVerdict]:
    """Each request's verdict in turn, under its categories' locks taken here (always in the
    same order: no lock cycle); a None request asks no slot and is granted."""
    asked = [request for request in requests if request is not None]
    for category in sorted({request.category for request in asked}):
        lock_category(connection, category)
    reservations = Reservations(connection, asked)
    verdicts = [BudgetVerdict(True) if r is None else reservations.reserve(r) for r in requests]
    reservations.insert_spent()
    return verdicts


class Reservations:
    """Grants or holds the requests of one transaction, in order, under the caller's locks."""

    def __init__(self, connection: Connection, requests: Sequence[BudgetRequest]) -> None:
        self._connection = connection
        self._states = {
            category: _CategoryState.read(connection, category, asked)
            for category, asked in _by_category(requests).items()
        }
        self._spent: list[dict[str, object]] = []
        """Rows of the slots granted, inserted together by ``insert_spent``."""

    def insert_spent(self) -> None:
        """The granted slots, in the order granted: call once, after the last ``reserve``.
        Nothing in the transaction reads them before (the states count them in memory)."""
        if self._spent:
            self._connection.execute(insert(budget_spend), self._spent)
            self._spent = []

    def reserve(self, request: BudgetRequest) -> BudgetVerdict:
        """Spend the request's slots, or refuse them and put (or join) the hold."""
        state = self._states[request.category]
        connection = self._connection
        if request.approved or state.approves(request):
            self._spent.extend(_spent_rows(request, approved=True))
            return BudgetVerdict(True)
        if state.hold is not None:
            add_waiting(connection, state.hold, [request.waiting])
            guard = budget_guard(request.category)
            return BudgetVerdict(False, state.hold, f"{guard}: a hold is active (#{state.hold})")
        for limit in request.limits:
            used = state.used(request, limit.length)
            if used + request.slots > limit.limit:
                message = full_message(limit, used, request.category)
                guards = (budget_guard(request.category),)
                state.hold = put_hold(connection, request.category, guards, message, request.at)
                add_waiting(connection, state.hold, [request.waiting])
                return BudgetVerdict(False, state.hold, message, new_hold=True)
        self._spent.extend(_spent_rows(request, approved=False))
        state.spent(request)
        return BudgetVerdict(True)


@dataclass
class _CategoryState:
    """What the category's reservations read, for the requests of one transaction."""

    hold: int | None
    windows: dict[timedelta, _Window]
    """The slots spent in each window length the batch asks about."""
    releases: dict[str, list[datetime]]
    """For each action key waiting on a released hold, when those holds were released."""
    batch: list[datetime] = field(default_factory=list)
    """When each slot this batch spent was, in order (each counts in every window)."""

    @classmethod
    def read(
        cls, connection: Connection, category: str, requests: list[BudgetRequest]
    ) -> _CategoryState:
        hold, released = _hold_and_last_release(connection, category)
        lengths = {limit.length for request in requests for limit in request.limits}
        if not lengths:  # no window: nothing to count, and no release approves anything
            return cls(hold, {}, {})
        first = min(request.at for request in requests)
        last = max(request.at for request in requests)
        spans = {length: (first - length, last - length) for length in sorted(lengths)}
        windows = _Window.read_all(connection, category, released, spans)
        since = first - max(lengths)
        # A release approves only within the longest window: an older one needs no query.
        recent = released is not None and released >= since
        releases = _releases(connection, category, since, requests) if recent else {}
        return cls(hold, windows, releases)

    def used(self, request: BudgetRequest, length: timedelta) -> int:
        """Slots counted in the window of ``length`` that ends at the request."""
        start = request.at - length
        earlier = self.windows[length].used_since(start)
        return earlier + len(self.batch) - bisect_right(self.batch, start)

    def spent(self, request: BudgetRequest) -> None:
        for _ in range(max(1, request.slots)):
            insort(self.batch, request.at)

    def approves(self, request: BudgetRequest) -> bool:
        """The action waited on a hold a human released within the longest window: it is
        approved, whichever path (the release, or a daemon re-check racing it) sends it."""
        if not request.limits:
            return False
        since = request.at - max(limit.length for limit in request.limits)
        return any(at >= since for at in self.releases.get(request.waiting.action_key, ()))


@dataclass(frozen=True)
class _Window:
    """The slots spent before the batch in windows of one length whose starts lie between
    ``since`` and ``until`` (the batch's requests are milliseconds apart): a count from
    ``since`` on, and the few slots spent between the two, which later starts leave out."""

    since: datetime
    after_since: int
    edge: list[datetime]
    """Slots spent after ``since`` and no later than ``until``, in order."""

    @classmethod
    def read_all(
        cls,
        connection: Connection,
        category: str,
        released: datetime | None,
        spans: dict[timedelta, tuple[datetime, datetime]],
    ) -> dict[timedelta, _Window]:
        """Each window length's slots, from its ``(since, until)``, counted after the last
        release (``released``): every count in one statement, every edge in another."""
        totals, edges = _window_queries(len(spans), released is not None)
        values: dict[str, object] = {"category": category, "released": released}
        for n, (since, until) in enumerate(spans.values()):
            values |= {f"since_{n}": since, f"until_{n}": until}
        values["earliest"] = min(since for since, _ in spans.values())
        found = connection.execute(totals, values).one()
        edge = sorted(connection.scalars(edges, values))
        return {
            length: cls(since, int(count), [a for a in edge if since < a <= until])
            for (length, (since, until)), count in zip(spans.items(), found, strict=True)
        }

    def used_since(self, start: datetime) -> int:
        """Slots counted in a window that starts at ``start`` (a slot spent at the very start
        is out, as ``at > start`` in SQL), for ``since <= start``."""
        assert start >= self.since, "a window starting before the batch's first"
        return self.after_since - bisect_right(self.edge, start)


def _releases(
    connection: Connection, category: str, since: datetime, requests: list[BudgetRequest]
) -> dict[str, list[datetime]]:
    keys = {request.waiting.action_key for request in requests if request.limits}
    query = (
        select(hold_waiting.c.action_key, holds.c.released_at)
        .join(hold_waiting, hold_waiting.c.hold_id == holds.c.id)
        .where(
            holds.c.category == category,
            holds.c.released_at.is_not(None),
            holds.c.released_at >= since,
            hold_waiting.c.action_key.in_(sorted(keys)),
        )
    )
    found: dict[str, list[datetime]] = defaultdict(list)
    for key, released_at in connection.execute(query):
        found[key].append(released_at)
    return dict(found)


def _by_category(requests: Sequence[BudgetRequest]) -> dict[str, list[BudgetRequest]]:
    grouped: dict[str, list[BudgetRequest]] = defaultdict(list)
    for request in requests:
        grouped[request.category].append(request)
    return grouped


def lock_category(connection: Connection, category: str) -> None:
    """Take the category's lock row: reservations and holds of one category take turns.

    A row that went missing after the store saw it (``lock_rows_seen``) is put back here,
    in the transaction: the insert holds the same lock. A race with another inserter fails
    the transaction loudly rather than reserving unlocked."""
    taken = connection.execute(_LOCK, {"locked": category})
    if taken.rowcount != 1:
        connection.execute(insert(budget_locks).values(category=category, reservations=1))


def active_hold_id(connection: Connection, category: str) -> int | None:
    found = connection.scalar(_active_hold(category))
    return int(found) if found is not None else None


def _active_hold(category: str | BindParameter[str]) -> Select[int]:
    return (
        select(holds.c.id)
        .where(holds.c.category == category, holds.c.released_at.is_(None))
        .order_by(holds.c.id)
        .limit(1)
    )


def last_release_at(connection: Connection, category: str) -> datetime | None:
    # Read through the table type so that SQLite's naive text comes back aware.
    return connection.scalar(_last_release(category))


def _last_release(category: str | BindParameter[str]) -> Select[datetime]:
    return (
        select(holds.c.released_at)
        .where(holds.c.category == category, holds.c.released_at.is_not(None))
        .order_by(holds.c.released_at.desc())
        .limit(1)
    )


def _hold_and_last_release(
    connection: Connection, category: str
) -> tuple[int | None, datetime | None]:
    """``active_hold_id`` and ``last_release_at`` in one statement."""
    hold, released = connection.execute(_hold_state_query(), {"category": category}).one()
    return (int(hold) if hold is not None else None), released


# The statements every batch makes, built once: building one costs about as much as running
# it (SQLAlchemy's coercions), and their values are bound parameters anyway.

_LOCK = (
    update(budget_locks)
    .where(budget_locks.c.category == bindparam("locked"))
    .values(reservations=budget_locks.c.reservations + 1)
)


@cache
def _hold_state_query() -> Select[int | None, datetime | None]:
    category: BindParameter[str] = bindparam("category")
    return select(
        _active_hold(category).scalar_subquery(), _last_release(category).scalar_subquery()
    )


@cache
def _window_queries(windows: int, after_release: bool) -> tuple[Select[Any], Select[datetime]]:
    """``_Window.read_all``'s two statements for ``windows`` lengths, with parameters
    ``category``, ``released`` (with ``after_release``), ``earliest``, ``since_N``, ``until_N``."""
    at = budget_spend.c.at
    released: BindParameter[datetime] | None = bindparam("released") if after_release else None
    counted = _counted_after(bindparam("category"), released)
    since: list[BindParameter[datetime]] = [bindparam(f"since_{n}") for n in range(windows)]
    until: list[BindParameter[datetime]] = [bindparam(f"until_{n}") for n in range(windows)]
    counts = [func.coalesce(func.sum(case((at > start, 1), else_=0)), 0) for start in since]
    totals = select(*counts).where(*counted, at > bindparam("earliest"))
    edges = or_(*(and_(at > start, at <= end) for start, end in zip(since, until, strict=True)))
    return totals, select(at).where(*counted, edges)


def count_spent(connection: Connection, category: str, start: datetime) -> int:
    """Slots counted in the window that starts at ``start``."""
    query = select(func.count()).where(*_counted(connection, category), budget_spend.c.at > start)
    return int(connection.scalar(query) or 0)


def _counted(connection: Connection, category: str) -> list[ColumnElement[bool]]:
    return _counted_after(category, last_release_at(connection, category))


def _counted_after(
    category: str | BindParameter[str], released: datetime | BindParameter[datetime] | None
) -> list[ColumnElement[bool]]:
    """Which spent slots count in the category's windows: not approved, and spent after the
    last release of a hold (``released``: a release starts the windows afresh). Values or
    bound parameters (the batch's statements, built once)."""
    counted = [budget_spend.c.category == category, budget_spend.c.approved.is_(False)]
    if released is not None:
        counted.append(budget_spend.c.at > released)
    return counted


def _spent_rows(request: BudgetRequest, *, approved: bool) -> list[dict[str, object]]:
    """The ``budget_spend`` rows of the request's slots (all or none are inserted)."""
    row: dict[str, object] = {
        "category": request.category,
        "at": request.at,
        "action_key": request.waiting.action_key,
        "run_id": request.run_id,
        "identity_id": request.waiting.identity_id,
        "approved": approved,
    }
    return [row] * max(1, request.slots)


def put_hold(
    connection: Connection, category: str, guards: Sequence[str], message: str, at: datetime
) -> int:
    result = connection.execute(
        insert(holds).values(category=category, guards=",".join(guards), message=message, since=at)
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def add_waiting(connection: Connection, hold: int, waiting: Sequence[Waiting]) -> None:
    """Everyone waiting, once each: a person held again keeps the time they first waited."""
    for item in waiting:
        where = (hold_waiting.c.hold_id == hold) & (hold_waiting.c.action_key == item.action_key)
        if connection.scalar(select(hold_waiting.c.hold_id).where(where)) is not None:
            continue
        connection.execute(
            insert(hold_waiting).values(
                hold_id=hold,
                action_key=item.action_key,
                kind=item.kind,
                identity_id=item.identity_id,
                account_id=item.account_id,
                email=item.email,
                since=item.since,
            )
        )
