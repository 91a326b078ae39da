"""Backup and restore of the whole store, on SQLite and PostgreSQL alike.

A backup is always one SQLite file with offboard's schema, so it can be read with any SQLite
tool and restored on either backend (which is also how a store moves from SQLite to
PostgreSQL). From SQLite it is SQLite's online backup (consistent while the daemon writes);
from PostgreSQL it is a logical copy of every table read in one REPEATABLE READ transaction
(one consistent snapshot), so no pg_dump of a matching major version is needed.

A restore goes only into an empty store: it never merges into, or overwrites, a journal.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Table, create_engine, func, select
from sqlalchemy.engine import Connection, Engine

from offboard.ports import OffboardError
from offboard.store.migrating import migrate, migration_state
from offboard.store.paths import database_url
from offboard.store.schema import metadata, store_meta
from offboard.store.sql_store import store_engine

BATCH = 1000


class BackupError(OffboardError):
    """A backup or restore that cannot be done as asked (the message says why and what to do)."""


@dataclass(frozen=True, slots=True)
class Copied:
    """Rows copied per table (for the command's summary)."""

    rows: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def backup(engine: Engine, target: Path) -> Copied:
    """Write the store behind ``engine`` to the new SQLite file ``target``."""
    if target.exists():
        raise BackupError(f"{target} exists; a backup never overwrites a file")
    state = migration_state(engine)
    if state.revision is None:
        raise BackupError("the store is empty: nothing to back up")
    target.parent.mkdir(parents=True, exist_ok=True)
    if engine.dialect.name == "sqlite":
        _sqlite_online_backup(engine, target)
        return _counts(target)
    if state.pending:
        raise BackupError(
            "the store's schema is not this offboard's: back it up with the offboard that "
            "wrote it (upgrade notes: back up before installing the new version)"
        )
    destination = _plain_sqlite(target)
    try:
        migrate(destination)
        snapshot = engine.execution_options(isolation_level="REPEATABLE READ")
        with snapshot.connect() as source, destination.begin() as sink:
            sink.execute(store_meta.delete())
            return _copy_tables(source, sink)
    except BaseException:
        destination.dispose()
        target.unlink(missing_ok=True)
        raise
    finally:
        destination.dispose()


def restore(engine: Engine, source: Path) -> Copied:
    """Copy the backup file ``source`` into the empty store behind ``engine``.

    A backup from an older offboard is upgraded on a temporary copy first (the file itself is
    never changed); one from a newer offboard is refused.
    """
    if not source.is_file():
        raise BackupError(f"{source}: no such backup file")
    _check_is_sqlite(source)
    with _current_copy(source) as current:
        migrate(engine, upgrade=False)  # an empty target gets the schema; others are refused
        with engine.begin() as sink:
            _refuse_non_empty(sink)
            sink.execute(store_meta.delete())
            with current.connect() as reader:
                copied = _copy_tables(reader, sink)
            if sink.dialect.name == "postgresql":
                _advance_sequences(sink)
        return copied


@contextmanager
def _current_copy(source: Path) -> Iterator[Engine]:
    """An engine on a temporary copy of the backup, migrated to this offboard's schema."""
    with tempfile.TemporaryDirectory(prefix="offboard-restore-") as folder:
        copy = Path(folder) / "backup.sqlite3"
        shutil.copyfile(source, copy)
        engine = store_engine(copy)
        try:
            migrate(engine)
            yield engine
        finally:
            engine.dispose()


def _sqlite_online_backup(engine: Engine, target: Path) -> None:
    raw = engine.raw_connection()
    try:
        live = raw.driver_connection
        assert isinstance(live, sqlite3.Connection)
        copy = sqlite3.connect(target)
        try:
            live.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        finally:
            copy.close()
    finally:
        raw.close()


def _check_is_sqlite(path: Path) -> None:
    with path.open("rb") as handle:
        if handle.read(16) != b"SQLite format 3\x00":
            raise BackupError(f"{path} is not an offboard backup (not a SQLite file)")


def _data_tables() -> list[Table]:
    """Every table of the schema, parents first; store_meta is copied too (its version)."""
    return list(metadata.sorted_tables)


def _copy_tables(source: Connection, sink: Connection) -> Copied:
    rows: dict[str, int] = {}
    for table in _data_tables():
        count = 0
        result = source.execution_options(yield_per=BATCH).execute(select(table))
        for batch in result.partitions(BATCH):
            sink.execute(table.insert(), [dict(row._mapping) for row in batch])
            count += len(batch)
        rows[table.name] = count
    return Copied(rows)


def _refuse_non_empty(connection: Connection) -> None:
    for table in _data_tables():
        if table is store_meta:
            continue
        if connection.scalar(select(func.count()).select_from(table)):
            raise BackupError(
                f"the target store is not empty (table {table.name} has rows): restore into "
                "a new SQLite file or an empty PostgreSQL database"
            )


def _advance_sequences(connection: Connection) -> None:
    """Rows came with their ids: move each id sequence past them, or the next insert clashes."""
    for table in _data_tables():
        column = table.autoincrement_column
        if column is None:
            continue
        highest = func.max(column)
        sequence = func.pg_get_serial_sequence(table.name, column.name)
        setval = func.setval(sequence, func.coalesce(highest, 1), highest.is_not(None))
        connection.execute(select(setval).select_from(table))


def _plain_sqlite(path: Path) -> Engine:
    """An engine on a backup file: no WAL, so the file stays one self-contained file."""
    return create_engine(database_url(path))


def _counts(path: Path) -> Copied:
    engine = _plain_sqlite(path)
    try:
        with engine.connect() as connection:
            names = set(engine.dialect.get_table_names(connection))
            return Copied(
                {
                    table.name: connection.scalar(select(func.count()).select_from(table)) or 0
                    for table in _data_tables()
                    if table.name in names
                }
            )
    finally:
        engine.dispose()
