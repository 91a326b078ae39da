"""Retention: forget what a year of passes leaves that nobody needs after a while.

A full pass that changed nothing still writes a run, its plan document (5 KB for 10,000
people, 12 KB for 50,000: the people skipped or blocked are listed in it) and two snapshot
summaries: 270 MB a year at 10,000 people, 516 MB at 50,000, at the default 96 passes a day
(``benchmarks/bench_store_growth.py``). What goes once older than the retention:

* runs that journaled nothing (passes and re-checks that acted on no one, plan-only runs),
  with their plan documents;
* snapshot summaries, except the newest of each side and kind (the count-drop baseline, the
  last refused count, the last Atlassian read);
* operator requests that are settled (done, refused, failed...): each act is journaled;
* console sessions past their absolute end (the login prunes them only when someone logs
  in), whatever the retention.

Never: a journal record (the audit log), a run that journaled anything and its plan, the
``keep_newest`` newest runs however old (the console's front page and blocked people, a
daemon stopped for longer than the retention), a queued or taken request, links, holds,
budget spend, cursors, leases, licence reports (one a day), notifications (they clear
themselves) and webhook delivery ids (the receiver prunes them).

Each step deletes at most ``batch`` rows of each kind in one short transaction, so a store
from before retention is worked through without holding SQLite's write lock for long.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Select,
    Subquery,
    Table,
    delete,
    exists,
    func,
    select,
)
from sqlalchemy.engine import Engine

from offboard.core.operator_requests import RequestState
from offboard.store.schema import (
    console_sessions,
    journal,
    operator_requests,
    plans,
    runs,
    snapshots,
)

BATCH = 500
"""Rows of each kind a step deletes at most."""
KEEP_NEWEST_RUNS = 100
"""Runs kept however old: more than the console looks at (30) and a day of re-checks."""
_SETTLED = [state.value for state in RequestState if state.finished]


@dataclass(frozen=True, slots=True)
class Pruned:
    """How many rows of each kind were forgotten."""

    runs: int = 0
    plans: int = 0
    snapshots: int = 0
    requests: int = 0
    sessions: int = 0

    @property
    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))

    def __bool__(self) -> bool:
        return self.total > 0

    def __add__(self, other: Pruned) -> Pruned:
        return Pruned(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


def prune_step(
    engine: Engine,
    cutoff: datetime,
    now: datetime,
    *,
    batch: int = BATCH,
    keep_newest: int = KEEP_NEWEST_RUNS,
) -> Pruned:
    """One batch of each kind older than ``cutoff`` (sessions: ended by ``now``), in one
    short transaction."""
    with engine.begin() as connection:
        return _step(connection, cutoff, now, batch, keep_newest)


def prune(
    engine: Engine,
    cutoff: datetime,
    now: datetime,
    *,
    batch: int = BATCH,
    keep_newest: int = KEEP_NEWEST_RUNS,
    dry_run: bool = False,
) -> Pruned:
    """Steps until one forgets nothing (``offboard store prune``; the daemon pauses between
    its steps instead). ``dry_run``: only count what would go, deleting nothing."""
    if dry_run:
        with engine.connect() as connection:
            return _counted(connection, cutoff, now, keep_newest)
    total = Pruned()
    while step := prune_step(engine, cutoff, now, batch=batch, keep_newest=keep_newest):
        total += step
    return total


def _step(
    connection: Connection, cutoff: datetime, now: datetime, batch: int, keep_newest: int
) -> Pruned:
    runs_gone, plans_gone = _forget_runs(connection, cutoff, batch, keep_newest)
    snapshot_ids = _ids(connection, _old_snapshots(connection, cutoff), snapshots.c.id, batch)
    request_ids = _ids(connection, _settled_requests(cutoff), operator_requests.c.id, batch)
    return Pruned(
        runs_gone,
        plans_gone,
        _delete_ids(connection, snapshots.c.id, snapshot_ids),
        _delete_ids(connection, operator_requests.c.id, request_ids),
        _delete(connection, console_sessions, _ended(now)),
    )


def _forget_runs(
    connection: Connection, cutoff: datetime, batch: int, keep: int
) -> tuple[int, int]:
    """A batch of old runs that journaled nothing, then their plans."""
    ids = _ids(connection, _old_runs(cutoff, keep), runs.c.started_at, batch)
    if not ids:
        return 0, 0
    # Journaled meanwhile? (A recovery writes under the run of its intent: never one of
    # these, which have none.) Checked again where the rows go.
    gone = _delete(connection, runs, runs.c.id.in_(ids) & ~_journaled())
    orphaned = ~exists().where(runs.c.id == plans.c.run_id)
    return gone, _delete(connection, plans, plans.c.run_id.in_(ids) & orphaned)


def _counted(connection: Connection, cutoff: datetime, now: datetime, keep: int) -> Pruned:
    """What steps would forget, counted by the same queries."""
    old_runs = _old_runs(cutoff, keep).subquery()
    return Pruned(
        _count(connection, select(old_runs.c.id).subquery()),
        _count(connection, select(plans.c.id).where(plans.c.run_id.in_(select(old_runs.c.id)))
               .subquery()),
        _count(connection, _old_snapshots(connection, cutoff).subquery()),
        _count(connection, _settled_requests(cutoff).subquery()),
        _count(connection, select(console_sessions.c.id_hash).where(_ended(now)).subquery()),
    )  # fmt: skip


def _journaled() -> ColumnElement[bool]:
    return exists().where(journal.c.run_id == runs.c.id)


def _old_runs(cutoff: datetime, keep: int) -> Select[tuple[str]]:
    """Runs started before ``cutoff`` that journaled nothing, but the ``keep`` newest."""
    newest = select(runs.c.id).order_by(runs.c.started_at.desc(), runs.c.id).limit(keep)
    return select(runs.c.id).where(
        runs.c.started_at < cutoff, ~_journaled(), runs.c.id.not_in(newest)
    )


def _old_snapshots(connection: Connection, cutoff: datetime) -> Select[tuple[int]]:
    """Summaries taken before ``cutoff``, but the newest of each side and kind."""
    newest = select(func.max(snapshots.c.id)).group_by(snapshots.c.side, snapshots.c.kind)
    kept = list(connection.scalars(newest))
    return select(snapshots.c.id).where(snapshots.c.taken_at < cutoff, snapshots.c.id.not_in(kept))


def _settled_requests(cutoff: datetime) -> Select[tuple[int]]:
    table = operator_requests
    return select(table.c.id).where(table.c.state.in_(_SETTLED), table.c.finished_at < cutoff)


def _ended(now: datetime) -> ColumnElement[bool]:
    return console_sessions.c.expires_at <= now


def _ids(
    connection: Connection, query: Select[tuple[Any]], oldest_first: ColumnElement[Any], batch: int
) -> list[Any]:
    return list(connection.scalars(query.order_by(oldest_first).limit(batch)))


def _delete(connection: Connection, table: Table, where: ColumnElement[bool]) -> int:
    return int(connection.execute(delete(table).where(where)).rowcount)


def _delete_ids(connection: Connection, column: Column[Any], ids: list[Any]) -> int:
    """Rows deleted by id (no statement for no ids)."""
    return _delete(connection, column.table, column.in_(ids)) if ids else 0


def _count(connection: Connection, rows: Subquery) -> int:
    return int(connection.scalar(select(func.count()).select_from(rows)) or 0)
