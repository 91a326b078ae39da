"""Opening a store as asked: for writing (created if missing, migrated) or for reading only
(it must exist, be offboard's and be current; nothing is created, migrated or written).

Either way a database that holds another application's tables is refused: offboard never
migrates its schema into someone else's database.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import ConnectionPoolEntry

from offboard.store.errors import StoreLocationError
from offboard.store.migrating import check_current
from offboard.store.paths import create_private_file, shown, sqlite_path
from offboard.store.schema import metadata, store_meta
from offboard.store.serial_writer import SerialWriterConnection

BUSY_TIMEOUT_MS = 30_000
POSTGRES_CONNECT_TIMEOUT = 10
"""Seconds for a PostgreSQL connection to be made (unless the URL sets ``connect_timeout``):
libpq's default waits as long as the network lets it, and a hung server held the daemon's
lease loop and its shutdown with it."""
OURS = frozenset(metadata.tables) | {"alembic_version"}


def _tune_sqlite(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    """WAL lets readers run beside the writer; the busy timeout makes writers queue, not fail."""
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = FULL")  # the journal must survive a power cut too
    # 512 KiB of page cache per connection, not SQLite's 2 MiB: the pool keeps several
    # connections, the operating system caches the same pages once for all of them, and
    # offboard's reads are appends and indexed lookups (2.5 MB less at 10,000 people).
    cursor.execute("PRAGMA cache_size = -512")
    cursor.close()


def _tune_reader(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    dbapi_connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def engine_for(url: URL, location: str | Path, *, read_only: bool) -> Engine:
    """An engine on the store; a SQLite file is created (0600) only for writing."""
    path = sqlite_path(url)
    if path is None:
        bounded = "connect_timeout" in url.query or url.get_backend_name() != "postgresql"
        timeout = {} if bounded else {"connect_timeout": POSTGRES_CONNECT_TIMEOUT}
        engine = create_engine(url, connect_args=timeout)
        return engine.execution_options(postgresql_readonly=True) if read_only else engine
    if not read_only:
        create_private_file(path)
        # The process's writers queue on a lock, not in SQLite's sleeping busy handler.
        writers = {"factory": SerialWriterConnection, "timeout": BUSY_TIMEOUT_MS / 1000}
        engine = create_engine(url, connect_args=writers)
        event.listen(engine, "connect", _tune_sqlite)
        return engine
    if not path.is_file():
        raise StoreLocationError(
            f"no store at {shown(location)}: check --store or store.path "
            "(reading commands never create one; `offboard plan` does)"
        )
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    engine = create_engine("sqlite+pysqlite://", creator=lambda: sqlite3.connect(uri, uri=True))
    event.listen(engine, "connect", _tune_reader)
    return engine


def check_store(engine: Engine, location: str | Path, *, read_only: bool) -> None:
    """Refuse another application's database; for reading, also an empty or stale one."""
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            _refuse_foreign(tables, location)
            if read_only:
                _require_current(connection, tables, location)
    except OperationalError as error:
        raise StoreLocationError(
            f"cannot open the store {shown(location)}: {_first_line(error, engine.url)}"
        ) from None


def _refuse_foreign(tables: set[str], location: str | Path) -> None:
    if store_meta.name in tables or tables <= OURS:
        return
    others = ", ".join(sorted(tables - OURS)[:5])
    raise StoreLocationError(
        f"{shown(location)} belongs to another application (tables {others}) and holds no "
        "offboard store; offboard will not add its tables to it. Point --store or "
        "store.path/store.url at offboard's own store"
    )


def _require_current(connection: Connection, tables: set[str], location: str | Path) -> None:
    if store_meta.name not in tables:
        raise StoreLocationError(
            f"{shown(location)} holds no offboard store yet (nothing was ever planned there); "
            "check --store or store.path"
        )
    older = check_current(connection)
    if older is not None:
        raise StoreLocationError(
            f"{shown(location)} has schema version {older}, from an older offboard; reading "
            "commands never write: back it up (`offboard store backup FILE`), then run "
            "`offboard store migrate`"
        )


def _first_line(error: OperationalError, url: URL) -> str:
    """The driver's own words, first line only, with the password scrubbed in case."""
    text = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
    return text.replace(url.password, "***") if isinstance(url.password, str) else text
