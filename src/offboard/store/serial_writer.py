"""One SQLite writer at a time per process, queued on a lock instead of SQLite's busy handler.

SQLite lets one connection write at a time. A second writer that finds the database locked
sleeps in SQLite's busy handler, in steps of 1 to 100 ms, and retries. An apply journals
from several worker threads at once (an action's intent, outcome and read-back, the budget
slot, the next action's intent), so its writers collided and each durable commit of about
half a millisecond waited 38 ms on average, up to 0.6 s: an apply of 190 deactivations spent
more than two seconds asleep.

Here the writers of one process take turns on a lock, each woken the moment the previous one
commits. SQLite's busy timeout still covers other processes (a CLI beside the daemon). The
lock is taken where SQLite takes its own write lock (the first INSERT, UPDATE, DELETE or
REPLACE of a transaction) and given back where SQLite gives its own back (commit, rollback,
close), so readers never wait for it and the order of locks is the one SQLite already had.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def writer_lock(database: str) -> threading.Lock:
    """The process-wide writer lock of a database file (the same file, the same lock)."""
    key = database if database.startswith("file:") else str(Path(database).resolve())
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def is_write(statement: str) -> bool:
    """Whether SQLite takes its write lock for the statement (Python's sqlite3 opens the
    transaction implicitly before exactly these)."""
    return statement.lstrip()[:7].upper().startswith(_WRITES)


class SerialWriterConnection(sqlite3.Connection):
    """A sqlite3 connection whose writes wait for the process's writer lock.

    Pass as ``factory`` to ``sqlite3.connect`` (``connect_args`` of the engine). ``timeout``
    is the longest wait for the lock, as SQLite's own busy timeout is for the file's lock.
    """

    def __init__(self, database: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        self._writer_lock = writer_lock(str(database))
        self._lock_wait = float(kwargs.get("timeout", 30.0))
        self._writing = False

    def cursor(self, *_args: Any, **_kwargs: Any) -> Any:
        """Always the serial-writer cursor (a ``factory`` would bypass the lock), made by
        sqlite3's own ``cursor()``: it drops the weak references the connection keeps to
        its dead cursors, which a cursor built here directly left behind for good (89 bytes
        a statement on a pooled connection that lives as long as the daemon: 17 MB a day)."""
        return super().cursor(SerialWriterCursor)

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        cursor: SerialWriterCursor = self.cursor()
        return cursor.execute(sql, parameters)

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._done_writing()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._done_writing()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._done_writing()

    def _begin_writing(self) -> None:
        if self._writing:
            return
        if not self._writer_lock.acquire(timeout=self._lock_wait):
            raise sqlite3.OperationalError(
                f"database is locked: another writer in this process held it for more than "
                f"{self._lock_wait:.0f} s"
            )
        self._writing = True

    def _done_writing(self) -> None:
        if self._writing:
            self._writing = False
            self._writer_lock.release()

    def _after(self) -> None:
        """An autocommit write (no transaction left open) has already released SQLite's lock."""
        if not self.in_transaction:
            self._done_writing()


class SerialWriterCursor(sqlite3.Cursor):
    """Takes the connection's writer lock before the first write of a transaction."""

    connection: SerialWriterConnection

    def execute(self, sql: str, parameters: Any = (), /) -> SerialWriterCursor:
        with self._turn(sql):
            super().execute(sql, parameters)
        return self

    def executemany(self, sql: str, seq_of_parameters: Iterable[Any], /) -> SerialWriterCursor:
        with self._turn(sql):
            super().executemany(sql, seq_of_parameters)
        return self

    @contextmanager
    def _turn(self, sql: str) -> Iterator[None]:
        """The writer lock before a write; after any statement, the lock given back if no
        transaction is left open (an autocommit write, or a failed first write)."""
        if is_write(sql):
            self.connection._begin_writing()
        try:
            yield
        finally:
            self.connection._after()
