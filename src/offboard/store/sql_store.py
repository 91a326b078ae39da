"""The one Store: SQLAlchemy Core over SQLite (default, one file) or PostgreSQL.

Portable SQL only: upserts are select-then-insert/update inside one transaction, the lease is
a conditional UPDATE (or an INSERT that loses on the primary key), and the journal is only ever
inserted into: this class has no way to change or remove a journal row.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import (
    and_,
    case,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError, ProgrammingError

from offboard.core.history import JournalQuery
from offboard.core.journal import JournalRecord, RunRecord, SnapshotSummary
from offboard.core.links import Link
from offboard.ports import Fence
from offboard.store import journal_search, licence_history, rows
from offboard.store.budgeting import BudgetTables
from offboard.store.errors import StoreUnreadableError
from offboard.store.fencing import hold_fence
from offboard.store.journal_writes import APPEND, LINK_KEY, append_records, upsert_links
from offboard.store.migrating import migrate
from offboard.store.opening import check_store, engine_for
from offboard.store.paths import database_url
from offboard.store.schema import cursors, journal, leases, links, plans, runs, snapshots
from offboard.store.unfinished import UnfinishedScan

if TYPE_CHECKING:  # the licence check's: a deprovisioning run does not import it
    from offboard.core.inactivity import InactivityMark

_RELEASED = datetime(1970, 1, 1, tzinfo=UTC)
"""A released lease keeps its row (and its token, which must never go back) but expires."""


def store_engine(url_or_path: str | Path) -> Engine:
    """An engine on the store at a file path or database URL, tuned, not yet migrated (a
    missing SQLite file is created 0600)."""
    return engine_for(database_url(url_or_path), url_or_path, read_only=False)


def open_store(
    url_or_path: str | Path, *, read_only: bool = False, upgrade: bool = True
) -> SqlStore:
    """Open the store at a file path or database URL (``scheme://``).

    For writing (the default) a missing SQLite file is created (0600) and an empty store gets
    the schema; a store from an older offboard is upgraded when ``upgrade`` is true, else
    refused with ``StoreMigrationPendingError``. ``read_only`` opens an existing, current
    offboard store without creating, migrating or writing anything. Either way another
    application's database is refused (``StoreLocationError``), and ``StoreVersionError``
    means a newer offboard wrote it.
    """
    url = database_url(url_or_path)
    engine = engine_for(url, url_or_path, read_only=read_only)
    try:
        check_store(engine, url_or_path, read_only=read_only)
        if not read_only:
            _migrate_beside_others(engine, upgrade=upgrade)
    except DatabaseError as exc:
        engine.dispose()
        if url.get_backend_name() != "sqlite":
            raise
        # "file is not a database", "database disk image is malformed": name the file and
        # the way out instead of a bare DatabaseError.
        problem = str(exc.orig) if exc.orig is not None else type(exc).__name__
        raise StoreUnreadableError(str(url.database), problem) from None
    except BaseException:
        engine.dispose()
        raise
    return SqlStore(engine)


def _migrate_beside_others(engine: Engine, attempts: int = 6, *, upgrade: bool = True) -> None:
    """Migrate; when another process migrating the same empty store got there first (our
    CREATE TABLE finds its table), wait for it to finish and look again: its migration is
    ours too. SQLite commits each CREATE TABLE at once, so the other may be half-way."""
    for attempt in range(1, attempts + 1):
        try:
            migrate(engine, upgrade=upgrade)
            return
        except (OperationalError, ProgrammingError, IntegrityError):
            if attempt == attempts:
                raise
            time.sleep(0.1 * 2 ** (attempt - 1))  # 3.1 s in all: a migration takes far less


class SqlStore(BudgetTables):
    """``offboard.ports.Store`` on a SQLAlchemy engine. Thread-safe; one transaction per call."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.lock_rows_seen = set()
        self.unfinished_scan = UnfinishedScan()

    def close(self) -> None:
        self.engine.dispose()

    # links

    def links(
        self,
        *,
        identity_ids: Iterable[str] | None = None,
        account_ids: Iterable[str] | None = None,
    ) -> list[Link]:
        columns = rows.link_columns()
        if identity_ids is None and account_ids is None:
            query = select(*columns).order_by(links.c.identity_id, links.c.account_id)
            with self.engine.connect() as connection:
                return rows.links_from(connection.execute(query).all())
        found: dict[tuple[str, str], Link] = {}
        with self.engine.connect() as connection:
            for column, wanted in (
                (links.c.identity_id, identity_ids),
                (links.c.account_id, account_ids),
            ):
                for chunk in _chunks(sorted(set(wanted or ()))):
                    answer = connection.execute(select(*columns).where(column.in_(chunk)))
                    for link in rows.links_from(answer.all()):
                        found[(link.identity_id, link.account_id)] = link
        return [found[key] for key in sorted(found)]

    def upsert_links(self, new_links: Iterable[Link]) -> None:
        self.append_all((), new_links)

    def remove_links(
        self, keys: Iterable[tuple[str, str]], records: Sequence[JournalRecord] = ()
    ) -> None:
        """Forget (identity, account) pairings and journal why, in one transaction."""
        with self.engine.begin() as connection:
            append_records(connection, records)
            for identity_id, account_id in keys:
                key = {"key_identity": identity_id, "key_account": account_id}
                connection.execute(links.delete().where(LINK_KEY), key)

    # snapshot summaries

    def record_snapshot(self, summary: SnapshotSummary) -> None:
        with self.engine.begin() as connection:
            connection.execute(insert(snapshots).values(rows.snapshot_values(summary)))

    def last_snapshot(self, side: str, kind: str = "full") -> SnapshotSummary | None:
        query = (
            select(snapshots)
            .where(snapshots.c.side == side, snapshots.c.kind == kind)
            .order_by(snapshots.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return rows.snapshot_from(row._mapping) if row is not None else None

    # licence reports (the daily licence check)

    def record_licence_report(self, taken_at: datetime, summary: dict[str, object]) -> None:
        licence_history.record(self.engine, taken_at, summary)

    def licence_reports(self, limit: int = 90) -> list[tuple[datetime, dict[str, object]]]:
        return licence_history.latest(self.engine, limit)

    def inactivity_marks(self) -> list[InactivityMark]:
        return licence_history.marks(self.engine)

    def save_inactivity_marks(self, changed: list[InactivityMark], cleared: list[str]) -> None:
        licence_history.save_marks(self.engine, changed, cleared)

    # runs and plans

    def start_run(self, kind: str, started_at: datetime) -> str:
        run_id = uuid.uuid4().hex
        values = {"id": run_id, "kind": kind, "started_at": started_at}
        with self.engine.begin() as connection:
            connection.execute(insert(runs).values(status="running", summary="{}", **values))
        return run_id

    def finish_run(
        self, run_id: str, finished_at: datetime, status: str, summary: dict[str, object]
    ) -> None:
        values = {"finished_at": finished_at, "status": status, "summary": json.dumps(summary)}
        with self.engine.begin() as connection:
            connection.execute(update(runs).where(runs.c.id == run_id).values(values))

    def runs(self, limit: int = 50) -> list[RunRecord]:
        query = select(runs).order_by(runs.c.started_at.desc(), runs.c.id).limit(limit)
        with self.engine.connect() as connection:
            return [rows.run_from(row._mapping) for row in connection.execute(query)]

    def runs_starting(self, prefix: str, limit: int = 11) -> list[RunRecord]:
        """Runs whose id starts with ``prefix``, newest first: a year of runs is not read to
        find one (``offboard journal show``)."""
        query = (
            select(runs)
            .where(runs.c.id.startswith(prefix, autoescape=True))
            .order_by(runs.c.started_at.desc(), runs.c.id)
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [rows.run_from(row._mapping) for row in connection.execute(query)]

    def save_plan(self, run_id: str, fingerprint: str, document: str) -> None:
        values = {"run_id": run_id, "fingerprint": fingerprint, "document": document}
        with self.engine.begin() as connection:
            connection.execute(insert(plans).values(values))

    def plan_document(self, run_id: str) -> tuple[str, str] | None:
        """``(fingerprint, document)`` of the last plan saved for a run, if any."""
        query = (
            select(plans.c.fingerprint, plans.c.document)
            .where(plans.c.run_id == run_id)
            .order_by(plans.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return (row.fingerprint, row.document) if row is not None else None

    # the journal: append-only

    def append(self, record: JournalRecord, *, fence: Fence | None = None) -> int:
        with self.engine.begin() as connection:
            hold_fence(connection, fence)
            result = connection.execute(APPEND, rows.journal_values(record))
            key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def append_all(
        self,
        records: Sequence[JournalRecord],
        links: Iterable[Link] = (),
        *,
        fence: Fence | None = None,
    ) -> None:
        with self.engine.begin() as connection:
            hold_fence(connection, fence)
            append_records(connection, records)
            upsert_links(connection, links)

    def journal(
        self,
        *,
        run_id: str | None = None,
        identity_id: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[JournalRecord]:
        query = select(journal).order_by(journal.c.seq)
        if run_id is not None:
            query = query.where(journal.c.run_id == run_id)
        if identity_id is not None:
            query = query.where(journal.c.identity_id == identity_id)
        if since is not None:
            query = query.where(journal.c.at >= since)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as connection:
            return [rows.journal_from(row._mapping) for row in connection.execute(query)]

    def search_journal(self, query: JournalQuery) -> list[JournalRecord]:
        """One page of the journal, newest first (``offboard.store.journal_search``)."""
        return journal_search.search(self.engine, query)

    def unfinished(self) -> list[JournalRecord]:
        return self.unfinished_scan(self.engine)

    # cursors

    def cursor(self, name: str) -> str | None:
        with self.engine.connect() as connection:
            value = connection.scalar(select(cursors.c.value).where(cursors.c.name == name))
        return str(value) if value is not None else None

    def set_cursor(self, name: str, value: str) -> None:
        where = cursors.c.name == name
        with self.engine.begin() as connection:
            if connection.scalar(select(cursors.c.name).where(where)) is None:
                connection.execute(insert(cursors).values(name=name, value=value))
            else:
                connection.execute(update(cursors).where(where).values(value=value))

    # leases

    def acquire_lease(self, name: str, holder: str, ttl: timedelta, now: datetime) -> bool:
        expires_at = now + ttl
        live_and_mine = and_(leases.c.holder == holder, leases.c.expires_at > now)
        takeable = and_(
            leases.c.name == name, or_(leases.c.holder == holder, leases.c.expires_at <= now)
        )
        # A renewal keeps the token; a take-over (another holder's expired lease, or our own
        # after it expired: someone may have acted in between) bumps it.
        token = case((live_and_mine, leases.c.token), else_=leases.c.token + 1)
        try:
            with self.engine.begin() as connection:
                # One conditional UPDATE: atomic on every backend, so only one holder wins.
                taken = connection.execute(
                    update(leases)
                    .where(takeable)
                    .values(holder=holder, expires_at=expires_at, token=token)
                )
                if taken.rowcount == 1:
                    return True
                if connection.scalar(select(leases.c.name).where(leases.c.name == name)):
                    return False
                connection.execute(
                    insert(leases).values(name=name, holder=holder, expires_at=expires_at, token=1)
                )
                return True
        except IntegrityError:
            return False  # another process inserted the first lease a moment before us

    def release_lease(self, name: str, holder: str) -> None:
        mine = and_(leases.c.name == name, leases.c.holder == holder)
        with self.engine.begin() as connection:
            connection.execute(update(leases).where(mine).values(expires_at=_RELEASED))

    def lease_token(self, name: str, holder: str, now: datetime) -> int | None:
        held = and_(leases.c.name == name, leases.c.holder == holder, leases.c.expires_at > now)
        with self.engine.connect() as connection:
            token = connection.scalar(select(leases.c.token).where(held))
        return int(token) if token is not None else None

    def fence_holds(self, fence: Fence, now: datetime) -> bool:
        return self.lease_token(fence.name, fence.holder, now) == fence.token


def _chunks(values: list[str], size: int = 500) -> Iterator[list[str]]:
    """IN lists in bounded chunks: every backend has a limit on bound parameters."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
