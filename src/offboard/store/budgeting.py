"""The budget and the hold in the store: atomic reservations counted from spent slots.

A reservation is one transaction that first UPDATEs the category's lock row. That UPDATE
takes SQLite's single write lock (other writers queue on the busy timeout) or a PostgreSQL
row lock (other reservations of the category wait for the commit; READ COMMITTED then lets
their next statement see the slot just spent). Only after it are the windows counted, a slot
inserted or a hold put, so two processes can never both take the last slot. Portable SQL
only, the same statements on both backends.

Slots are counted from ``budget_spend``: a slot is spent when a request is about to be sent
and never given back, even when the request then fails (it may have had its effect). Slots
before the last release of a hold do not count: releasing a hold starts the windows afresh.
An action may spend several slots (a SCIM membership removal, one per member): they are
inserted in the same transaction, all or none, so a window never ends half spent by one.
Approved slots (a released hold's people, an override) are kept for the audit but not counted;
an action that waited on a hold released within the longest window is approved whichever path
sends it (a daemon re-check may race the release's own re-plan).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import exists, func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from offboard.core.budget import WindowLimit
from offboard.core.holds import (
    BudgetRequest,
    BudgetVerdict,
    Hold,
    Waiting,
    WindowUsage,
    budget_guard,
    window_full_message,
)
from offboard.ports import Fence, NoHoldError
from offboard.store.fencing import hold_fence
from offboard.store.schema import budget_locks, budget_spend, hold_waiting, holds, links


class BudgetTables:
    """The budget and hold part of ``SqlStore`` (it provides ``engine``)."""

    engine: Engine

    def reserve_budget(self, request: BudgetRequest) -> BudgetVerdict:
        """Spend the request's slots, or refuse them and put (or join) the hold; atomic
        across processes."""
        return self.reserve_budgets([request])[0]

    def reserve_budgets(
        self, requests: Sequence[BudgetRequest], *, fence: Fence | None = None
    ) -> list[BudgetVerdict]:
        """``reserve_budget`` of each request in turn, in one transaction: the same verdicts
        as one transaction each (a request counts the slots the earlier ones spent, and
        joins a hold an earlier one put), with one lock and one commit for all. Under a
        ``fence``, a replaced leader spends nothing (``FenceLostError``)."""
        categories = sorted({request.category for request in requests})
        for category in categories:
            self._ensure_lock_row(category)
        with self.engine.begin() as connection:
            hold_fence(connection, fence)
            for category in categories:  # always in the same order: no lock cycle
                _lock(connection, category)
            return [_reserve(connection, request) for request in requests]

    def hold_plan(
        self,
        category: str,
        guards: Sequence[str],
        message: str,
        at: datetime,
        waiting: Sequence[Waiting],
    ) -> tuple[int, bool]:
        """Put a hold for a blocked plan, or join the active one: ``(hold id, new)``."""
        self._ensure_lock_row(category)
        with self.engine.begin() as connection:
            _lock(connection, category)
            hold = _active_hold_id(connection, category)
            new = hold is None
            if hold is None:
                hold = _put_hold(connection, category, guards, message, at)
            _add_waiting(connection, hold, waiting)
            return hold, new

    def active_hold(self, category: str) -> Hold | None:
        with self.engine.connect() as connection:
            hold = _active_hold_id(connection, category)
            return _read_hold(connection, hold) if hold is not None else None

    def release_hold(self, category: str, by: str, reason: str, at: datetime) -> Hold:
        """Release the active hold; raises ``NoHoldError`` when there is none."""
        self._ensure_lock_row(category)
        with self.engine.begin() as connection:
            _lock(connection, category)
            hold = _active_hold_id(connection, category)
            if hold is None:
                raise NoHoldError(f"no {category} hold is active")
            values = {"released_at": at, "released_by": by, "release_reason": reason}
            connection.execute(update(holds).where(holds.c.id == hold).values(values))
            return _read_hold(connection, hold)

    def budget_usage(
        self, category: str, limits: Sequence[WindowLimit], now: datetime
    ) -> list[WindowUsage]:
        with self.engine.connect() as connection:
            return [
                WindowUsage(
                    limit.name, limit.length, _used(connection, category, limit, now), limit.limit
                )
                for limit in limits
            ]

    def link_count(self) -> int:
        """Linked pairs: the population the budget percentages are taken of."""
        with self.engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(links)) or 0)

    def _ensure_lock_row(self, category: str) -> None:
        """The lock row exists before any reservation; a race to insert it is harmless."""
        with self.engine.connect() as connection:
            found = connection.scalar(
                select(budget_locks.c.category).where(budget_locks.c.category == category)
            )
        if found is not None:
            return
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(budget_locks).values(category=category, reservations=0))
        except IntegrityError:
            pass  # another process inserted it a moment before us


def _reserve(connection: Connection, request: BudgetRequest) -> BudgetVerdict:
    """One reservation, under the category's lock taken by the caller's transaction."""
    hold = _active_hold_id(connection, request.category)
    if request.approved or _released_for(connection, request):
        _spend(connection, request, approved=True)
        return BudgetVerdict(True)
    if hold is not None:
        _add_waiting(connection, hold, [request.waiting])
        guard = budget_guard(request.category)
        return BudgetVerdict(False, hold, f"{guard}: a hold is active (#{hold})")
    for limit in request.limits:
        used = _used(connection, request.category, limit, request.at)
        if used + request.slots > limit.limit:
            message = window_full_message(limit, used, request.category)
            guards = (budget_guard(request.category),)
            hold = _put_hold(connection, request.category, guards, message, request.at)
            _add_waiting(connection, hold, [request.waiting])
            return BudgetVerdict(False, hold, message, new_hold=True)
    _spend(connection, request, approved=False)
    return BudgetVerdict(True)


def _released_for(connection: Connection, request: BudgetRequest) -> bool:
    """The action waited on a hold a human released within the longest window: it is
    approved, whichever path (the release, or a daemon re-check racing it) sends it."""
    if not request.limits:
        return False
    since = request.at - max(limit.length for limit in request.limits)
    query = (
        select(holds.c.id)
        .join(hold_waiting, hold_waiting.c.hold_id == holds.c.id)
        .where(
            holds.c.category == request.category,
            holds.c.released_at.is_not(None),
            holds.c.released_at >= since,
            hold_waiting.c.action_key == request.waiting.action_key,
        )
        .limit(1)
    )
    return connection.scalar(query) is not None


def _lock(connection: Connection, category: str) -> None:
    connection.execute(
        update(budget_locks)
        .where(budget_locks.c.category == category)
        .values(reservations=budget_locks.c.reservations + 1)
    )


def _active_hold_id(connection: Connection, category: str) -> int | None:
    query = (
        select(holds.c.id)
        .where(holds.c.category == category, holds.c.released_at.is_(None))
        .order_by(holds.c.id)
        .limit(1)
    )
    found = connection.scalar(query)
    return int(found) if found is not None else None


def _used(connection: Connection, category: str, limit: WindowLimit, now: datetime) -> int:
    start = now - limit.length
    query = select(func.count()).where(
        budget_spend.c.category == category,
        budget_spend.c.approved.is_(False),
        budget_spend.c.at > start,
    )
    released = _last_release_at(connection, category)
    if released is not None:
        query = query.where(budget_spend.c.at > released)
    return int(connection.scalar(query) or 0)


def _last_release_at(connection: Connection, category: str) -> datetime | None:
    # Read through the table type so that SQLite's naive text comes back aware.
    query = (
        select(holds.c.released_at)
        .where(holds.c.category == category, holds.c.released_at.is_not(None))
        .order_by(holds.c.released_at.desc())
        .limit(1)
    )
    return connection.scalar(query)


def _spend(connection: Connection, request: BudgetRequest, *, approved: bool) -> None:
    row = {
        "category": request.category,
        "at": request.at,
        "action_key": request.waiting.action_key,
        "run_id": request.run_id,
        "identity_id": request.waiting.identity_id,
        "approved": approved,
    }
    connection.execute(insert(budget_spend), [row] * max(1, request.slots))


def _put_hold(
    connection: Connection, category: str, guards: Sequence[str], message: str, at: datetime
) -> int:
    result = connection.execute(
        insert(holds).values(category=category, guards=",".join(guards), message=message, since=at)
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _add_waiting(connection: Connection, hold: int, waiting: Sequence[Waiting]) -> None:
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


def _read_hold(connection: Connection, hold: int) -> Hold:
    row = connection.execute(select(holds).where(holds.c.id == hold)).one()
    # Someone offboard has deactivated since (another path got there first) no longer waits:
    # nothing already done is ever shown as waiting.
    done = exists().where(
        links.c.identity_id == hold_waiting.c.identity_id,
        links.c.account_id == hold_waiting.c.account_id,
        links.c.deactivated_by_offboard.is_(True),
        hold_waiting.c.kind != "delete",
    )
    waiting = connection.execute(
        select(hold_waiting)
        .where(hold_waiting.c.hold_id == hold, ~done)
        .order_by(hold_waiting.c.since, hold_waiting.c.action_key)
    )
    return Hold(
        id=row.id,
        category=row.category,
        guards=tuple(g for g in row.guards.split(",") if g),
        message=row.message,
        since=row.since,
        waiting=tuple(
            Waiting(w.action_key, w.kind, w.identity_id, w.account_id, w.email, w.since)
            for w in waiting
        ),
        released_at=row.released_at,
        released_by=row.released_by,
        release_reason=row.release_reason,
    )
