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

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import exists, func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from offboard.core.budget import WindowLimit
from offboard.core.holds import (
    Admission,
    BudgetRequest,
    BudgetVerdict,
    Hold,
    Waiting,
    WindowUsage,
)
from offboard.core.journal import JournalRecord
from offboard.core.links import Link
from offboard.ports import Fence, NoHoldError
from offboard.store.fencing import hold_fence
from offboard.store.journal_writes import append_records, upsert_links
from offboard.store.reserving import (
    active_hold_id,
    add_waiting,
    count_spent,
    lock_category,
    put_hold,
    reserve_all,
)
from offboard.store.schema import budget_locks, hold_waiting, holds, links


class BudgetTables:
    """The budget and hold part of ``SqlStore`` (it provides ``engine``)."""

    engine: Engine
    lock_rows_seen: set[str]
    """Categories whose lock row is known to exist (``_ensure_lock_row``)."""

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
        self._ensure_lock_rows(requests)
        with self.engine.begin() as connection:
            hold_fence(connection, fence)
            return reserve_all(connection, requests)

    def admit(
        self,
        admissions: Sequence[Admission],
        *,
        fence: Fence | None = None,
        now: datetime | None = None,
        records: Sequence[JournalRecord] = (),
        links: Iterable[Link] = (),
    ) -> list[BudgetVerdict]:
        """Each admission in turn, in one transaction: its slot reserved as by
        ``reserve_budgets`` (one with no request is granted) and, if granted, its intent
        journaled; ``records`` and ``links`` are written in it too, as by ``append_all``.
        Under a ``fence`` (unexpired at ``now``, when given), raises ``FenceLostError`` and
        writes nothing once the lease is lost."""
        asked = [admission.request for admission in admissions]
        self._ensure_lock_rows(asked)
        with self.engine.begin() as connection:
            hold_fence(connection, fence, unexpired_at=now)
            verdicts = reserve_all(connection, asked)
            intents = [
                a.intent for a, verdict in zip(admissions, verdicts, strict=True) if verdict.granted
            ]
            append_records(connection, [*intents, *records])
            upsert_links(connection, links)
        return verdicts

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
            lock_category(connection, category)
            hold = active_hold_id(connection, category)
            new = hold is None
            if hold is None:
                hold = put_hold(connection, category, guards, message, at)
            add_waiting(connection, hold, waiting)
            return hold, new

    def active_hold(self, category: str) -> Hold | None:
        with self.engine.connect() as connection:
            hold = active_hold_id(connection, category)
            return _read_hold(connection, hold) if hold is not None else None

    def release_hold(self, category: str, by: str, reason: str, at: datetime) -> Hold:
        """Release the active hold; raises ``NoHoldError`` when there is none."""
        self._ensure_lock_row(category)
        with self.engine.begin() as connection:
            lock_category(connection, category)
            hold = active_hold_id(connection, category)
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
                    limit.name,
                    limit.length,
                    count_spent(connection, category, now - limit.length),
                    limit.limit,
                )
                for limit in limits
            ]

    def link_count(self) -> int:
        """Linked pairs: the population the budget percentages are taken of."""
        with self.engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(links)) or 0)

    def _ensure_lock_rows(self, requests: Iterable[BudgetRequest | None]) -> None:
        for category in sorted({r.category for r in requests if r is not None}):
            self._ensure_lock_row(category)

    def _ensure_lock_row(self, category: str) -> None:
        """The lock row exists before any reservation; a race to insert it is harmless.

        Looked up once per category and store: lock rows are never deleted (and should one
        go missing all the same, ``lock_category`` puts it back in its transaction)."""
        if category in self.lock_rows_seen:
            return
        self._insert_lock_row(category)
        self.lock_rows_seen.add(category)

    def _insert_lock_row(self, category: str) -> None:
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
