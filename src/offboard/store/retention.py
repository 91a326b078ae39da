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

from sqlalchemy import Connection, delete, exists, func, select
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
    its steps instead). ``dry_run``: the same steps in one transaction, rolled back."""
    total = Pruned()
    if dry_run:
        with engine.connect() as connection:
            while step := _step(connection, cutoff, now, batch, keep_newest):
                total += step
            connection.rollback()
        return total
    while step := prune_step(engine, cutoff, now, batch=batch, keep_newest=keep_newest):
        total += step
    return total


def _step(
    connection: Connection, cutoff: datetime, now: datetime, batch: int, keep_newest: int
) -> Pruned:
    forgotten_runs, forgotten_plans = _runs(connection, cutoff, batch, keep_newest)
    ended = console_sessions.c.expires_at <= now
    return Pruned(
        forgotten_runs,
        forgotten_plans,
        _snapshots(connection, cutoff, batch),
        _requests(connection, cutoff, batch),
        connection.execute(delete(console_sessions).where(ended)).rowcount,
    )


def _runs(connection: Connection, cutoff: datetime, batch: int, keep: int) -> tuple[int, int]:
    """Old runs with no journal record, then their plans (in the same transaction)."""
    journaled = exists().where(journal.c.run_id == runs.c.id)
    newest = select(runs.c.id).order_by(runs.c.started_at.desc(), runs.c.id).limit(keep)
    candidates = (
        select(runs.c.id)
        .where(runs.c.started_at < cutoff, ~journaled, runs.c.id.not_in(newest))
        .order_by(runs.c.started_at)
        .limit(batch)
    )
    ids = list(connection.scalars(candidates))
    if not ids:
        return 0, 0
    # Journaled meanwhile (a recovery writes under the run of its intent: never one of
    # these, which have none), checked again where the rows go.
    gone = connection.execute(delete(runs).where(runs.c.id.in_(ids), ~journaled)).rowcount
    orphaned = ~exists().where(runs.c.id == plans.c.run_id)
    dropped = connection.execute(delete(plans).where(plans.c.run_id.in_(ids), orphaned))
    return gone, dropped.rowcount


def _snapshots(connection: Connection, cutoff: datetime, batch: int) -> int:
    newest = select(func.max(snapshots.c.id)).group_by(snapshots.c.side, snapshots.c.kind)
    kept = set(connection.scalars(newest))
    old = (
        select(snapshots.c.id)
        .where(snapshots.c.taken_at < cutoff, snapshots.c.id.not_in(kept))
        .order_by(snapshots.c.id)
        .limit(batch)
    )
    ids = list(connection.scalars(old))
    if not ids:
        return 0
    return connection.execute(delete(snapshots).where(snapshots.c.id.in_(ids))).rowcount


def _requests(connection: Connection, cutoff: datetime, batch: int) -> int:
    table = operator_requests
    old = (
        select(table.c.id)
        .where(table.c.state.in_(_SETTLED), table.c.finished_at < cutoff)
        .order_by(table.c.id)
        .limit(batch)
    )
    ids = list(connection.scalars(old))
    if not ids:
        return 0
    return connection.execute(delete(table).where(table.c.id.in_(ids))).rowcount
