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
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, bindparam, create_engine, event, exists, insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.pool import ConnectionPoolEntry

from offboard.core.journal import JournalRecord, Phase, RunRecord, SnapshotSummary
from offboard.core.links import Link
from offboard.store import rows
from offboard.store.budgeting import BudgetTables
from offboard.store.migrating import migrate
from offboard.store.paths import database_url
from offboard.store.schema import cursors, journal, leases, links, plans, runs, snapshots

BUSY_TIMEOUT_MS = 30_000
# Constant statements executed with parameters are compiled once, not once per row.
_APPEND = insert(journal)
_LINK_KEY = and_(
    links.c.identity_id == bindparam("key_identity"),
    links.c.account_id == bindparam("key_account"),
)
_LINK_EXISTS = select(links.c.identity_id).where(_LINK_KEY)
_LINK_INSERT = insert(links)
_LINK_UPDATE = update(links).where(_LINK_KEY)


def _tune_sqlite(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    """WAL lets readers run beside the writer; the busy timeout makes writers queue, not fail."""
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = FULL")  # the journal must survive a power cut too
    cursor.close()


def open_store(url_or_path: str | Path) -> SqlStore:
    """Open (creating and migrating as needed) the store at a file path or database URL.

    Raises ``StoreVersionError`` when the store was written by a newer offboard.
    """
    url = database_url(url_or_path)
    engine = create_engine(url)
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _tune_sqlite)
    _migrate_beside_others(engine)
    return SqlStore(engine)


def _migrate_beside_others(engine: Engine, attempts: int = 6) -> None:
    """Migrate; when another process migrating the same empty store got there first (our
    CREATE TABLE finds its table), wait for it to finish and look again: its migration is
    ours too. SQLite commits each CREATE TABLE at once, so the other may be half-way."""
    for attempt in range(1, attempts + 1):
        try:
            migrate(engine)
            return
        except (OperationalError, ProgrammingError, IntegrityError):
            if attempt == attempts:
                raise
            time.sleep(0.1 * 2 ** (attempt - 1))  # 3.1 s in all: a migration takes far less


class SqlStore(BudgetTables):
    """``offboard.ports.Store`` on a SQLAlchemy engine. Thread-safe; one transaction per call."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def close(self) -> None:
        self.engine.dispose()

    # links

    def links(
        self,
        *,
        identity_ids: Iterable[str] | None = None,
        account_ids: Iterable[str] | None = None,
    ) -> list[Link]:
        if identity_ids is None and account_ids is None:
            query = select(links).order_by(links.c.identity_id, links.c.account_id)
            with self.engine.connect() as connection:
                return [rows.link_from(row._mapping) for row in connection.execute(query)]
        found: dict[tuple[str, str], Link] = {}
        with self.engine.connect() as connection:
            for column, wanted in (
                (links.c.identity_id, identity_ids),
                (links.c.account_id, account_ids),
            ):
                for chunk in _chunks(sorted(set(wanted or ()))):
                    for row in connection.execute(select(links).where(column.in_(chunk))):
                        link = rows.link_from(row._mapping)
                        found[(link.identity_id, link.account_id)] = link
        return [found[key] for key in sorted(found)]

    def upsert_links(self, new_links: Iterable[Link]) -> None:
        self.append_all((), new_links)

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

    def append(self, record: JournalRecord) -> int:
        with self.engine.begin() as connection:
            result = connection.execute(_APPEND, rows.journal_values(record))
            key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def append_all(self, records: Sequence[JournalRecord], links: Iterable[Link] = ()) -> None:
        with self.engine.begin() as connection:
            if records:
                connection.execute(_APPEND, [rows.journal_values(record) for record in records])
            for link in links:
                key = {"key_identity": link.identity_id, "key_account": link.account_id}
                values = rows.link_values(link)
                if connection.scalar(_LINK_EXISTS, key) is None:
                    connection.execute(_LINK_INSERT, values)
                else:
                    connection.execute(_LINK_UPDATE, {**values, **key})

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

    def unfinished(self) -> list[JournalRecord]:
        later = journal.alias("later")
        settled = exists().where(
            later.c.run_id == journal.c.run_id,
            later.c.action_key == journal.c.action_key,
            later.c.phase.in_([Phase.OUTCOME.value, Phase.RECOVERED.value]),
            later.c.seq > journal.c.seq,
        )
        query = (
            select(journal)
            .where(journal.c.phase == Phase.INTENT.value, ~settled)
            .order_by(journal.c.seq)
        )
        with self.engine.connect() as connection:
            return [rows.journal_from(row._mapping) for row in connection.execute(query)]

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
        takeable = and_(
            leases.c.name == name, or_(leases.c.holder == holder, leases.c.expires_at <= now)
        )
        try:
            with self.engine.begin() as connection:
                # One conditional UPDATE: atomic on every backend, so only one holder wins.
                taken = connection.execute(
                    update(leases).where(takeable).values(holder=holder, expires_at=expires_at)
                )
                if taken.rowcount == 1:
                    return True
                if connection.scalar(select(leases.c.name).where(leases.c.name == name)):
                    return False
                connection.execute(
                    insert(leases).values(name=name, holder=holder, expires_at=expires_at)
                )
                return True
        except IntegrityError:
            return False  # another process inserted the first lease a moment before us

    def release_lease(self, name: str, holder: str) -> None:
        mine = and_(leases.c.name == name, leases.c.holder == holder)
        with self.engine.begin() as connection:
            connection.execute(leases.delete().where(mine))


def _chunks(values: list[str], size: int = 500) -> Iterator[list[str]]:
    """IN lists in bounded chunks: every backend has a limit on bound parameters."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
