"""The reservations of one transaction, with each category's state read once.

A reservation reads the category's active hold, the last release of a hold, the slots spent
in each window and whether a released hold approved the action; then it spends its slots or
puts (or joins) the hold. One request at a time, that is seven statements; an apply's
concurrent actions share a transaction (``Store.admit``), and there each of those reads is
made once per category for the whole batch and then kept up to date in memory with what the
batch itself writes (a slot spent, a hold put). Nothing else can change them meanwhile: the
transaction holds the categories' lock rows (``lock_category``), which every reservation
and hold of the category takes first. So the verdicts are exactly those of one transaction
per request, in order (``tests/store/test_budget.py`` checks both against each other).
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, insert, select, update
from sqlalchemy.engine import Connection

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
    return [BudgetVerdict(True) if r is None else reservations.reserve(r) for r in requests]


class Reservations:
    """Grants or holds the requests of one transaction, in order, under the caller's locks."""

    def __init__(self, connection: Connection, requests: Sequence[BudgetRequest]) -> None:
        self._connection = connection
        self._states = {
            category: _CategoryState.read(connection, category, asked)
            for category, asked in _by_category(requests).items()
        }

    def reserve(self, request: BudgetRequest) -> BudgetVerdict:
        """Spend the request's slots, or refuse them and put (or join) the hold."""
        state = self._states[request.category]
        connection = self._connection
        if request.approved or state.approves(request):
            spend(connection, request, approved=True)
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
        spend(connection, request, approved=False)
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
        hold = active_hold_id(connection, category)
        lengths = {limit.length for request in requests for limit in request.limits}
        if not lengths:  # no window: nothing to count, and no release approves anything
            return cls(hold, {}, {})
        counted = _counted(connection, category)
        first = min(request.at for request in requests)
        last = max(request.at for request in requests)
        windows = {
            length: _Window.read(connection, counted, first - length, last - length)
            for length in lengths
        }
        return cls(hold, windows, _releases(connection, category, first - max(lengths), requests))

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
    def read(
        cls,
        connection: Connection,
        counted: list[ColumnElement[bool]],
        since: datetime,
        until: datetime,
    ) -> _Window:
        after = budget_spend.c.at > since
        count = connection.scalar(select(func.count()).where(*counted, after))
        query = select(budget_spend.c.at).where(*counted, after, budget_spend.c.at <= until)
        return cls(since, int(count or 0), sorted(connection.scalars(query)))

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
    taken = connection.execute(
        update(budget_locks)
        .where(budget_locks.c.category == category)
        .values(reservations=budget_locks.c.reservations + 1)
    )
    if taken.rowcount != 1:
        connection.execute(insert(budget_locks).values(category=category, reservations=1))


def active_hold_id(connection: Connection, category: str) -> int | None:
    query = (
        select(holds.c.id)
        .where(holds.c.category == category, holds.c.released_at.is_(None))
        .order_by(holds.c.id)
        .limit(1)
    )
    found = connection.scalar(query)
    return int(found) if found is not None else None


def last_release_at(connection: Connection, category: str) -> datetime | None:
    # Read through the table type so that SQLite's naive text comes back aware.
    query = (
        select(holds.c.released_at)
        .where(holds.c.category == category, holds.c.released_at.is_not(None))
        .order_by(holds.c.released_at.desc())
        .limit(1)
    )
    return connection.scalar(query)


def count_spent(connection: Connection, category: str, start: datetime) -> int:
    """Slots counted in the window that starts at ``start``."""
    query = select(func.count()).where(*_counted(connection, category), budget_spend.c.at > start)
    return int(connection.scalar(query) or 0)


def _counted(connection: Connection, category: str) -> list[ColumnElement[bool]]:
    """Which spent slots count in the category's windows: not approved, and spent after the
    last release of a hold (a release starts the windows afresh)."""
    counted = [budget_spend.c.category == category, budget_spend.c.approved.is_(False)]
    released = last_release_at(connection, category)
    if released is not None:
        counted.append(budget_spend.c.at > released)
    return counted


def spend(connection: Connection, request: BudgetRequest, *, approved: bool) -> None:
    row = {
        "category": request.category,
        "at": request.at,
        "action_key": request.waiting.action_key,
        "run_id": request.run_id,
        "identity_id": request.waiting.identity_id,
        "approved": approved,
    }
    connection.execute(insert(budget_spend), [row] * max(1, request.slots))


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
