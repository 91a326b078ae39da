"""Writers of one process take turns on a lock instead of sleeping in SQLite's busy handler."""

from __future__ import annotations

import gc
import sqlite3
import threading
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from offboard.store import open_store, serial_writer
from offboard.store.serial_writer import SerialWriterConnection, is_write

THREADS = 8
WRITES = 40


def _hammer(path: Path, factory: type[sqlite3.Connection]) -> list[BaseException]:
    """THREADS threads, each with its own connection, each committing WRITES inserts, with no
    busy timeout at all while they write: a writer that finds the file locked fails at once.

    Opening and closing stay outside the writes, with a busy timeout: a connection's first
    read (setting up the WAL index) and its close (which tries for a lock to checkpoint) can
    find the file busy for a moment, which is not what is tested here (offboard's own busy
    timeout waits those out)."""
    errors: list[BaseException] = []
    start, done = threading.Barrier(THREADS), threading.Barrier(THREADS)

    def writer(n: int) -> None:
        connection = sqlite3.connect(path, timeout=5, factory=factory, check_same_thread=False)
        connection.execute("SELECT count(*) FROM t").fetchone()
        connection.execute("PRAGMA busy_timeout = 0")
        try:
            start.wait()
            for i in range(WRITES):
                connection.execute("INSERT INTO t VALUES (?)", (f"{n}-{i}",))
                connection.commit()
        except BaseException as error:
            errors.append(error)
        finally:
            done.wait()
            connection.execute("PRAGMA busy_timeout = 5000")
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def _table(tmp_path: Path) -> Path:
    path = tmp_path / "t.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("CREATE TABLE t (v TEXT)")
    return path


def test_plain_connections_collide_without_a_busy_timeout(tmp_path: Path) -> None:
    """The control: what the lock prevents does happen to plain connections."""
    errors: list[BaseException] = []
    for attempt in range(5):  # collisions are likely, not certain, in any one round
        folder = tmp_path / str(attempt)
        folder.mkdir()
        errors += _hammer(_table(folder), sqlite3.Connection)
        if errors:
            break
    assert any("locked" in str(error) for error in errors)


def test_serial_writers_never_collide(tmp_path: Path) -> None:
    path = _table(tmp_path)
    assert _hammer(path, SerialWriterConnection) == []
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM t").fetchone() == (THREADS * WRITES,)


def test_a_rolled_back_or_closed_writer_gives_the_lock_back(tmp_path: Path) -> None:
    path = _table(tmp_path)
    first = sqlite3.connect(path, factory=SerialWriterConnection, check_same_thread=False)
    first.execute("INSERT INTO t VALUES ('a')")
    first.rollback()
    second = sqlite3.connect(path, factory=SerialWriterConnection, timeout=1)
    second.execute("INSERT INTO t VALUES ('b')")  # would wait a second and fail if still held
    second.close()  # closing with a write open also gives it back
    third = sqlite3.connect(path, factory=SerialWriterConnection, timeout=1)
    third.execute("INSERT INTO t VALUES ('c')")
    third.commit()
    third.close()
    first.close()


def _holding_a_write(path: Path) -> sqlite3.Connection:
    """A connection with a write open (the lock held), and no commit yet."""
    holder = sqlite3.connect(path, factory=SerialWriterConnection, check_same_thread=False)
    holder.execute("INSERT INTO t VALUES ('a')")
    return holder


def test_a_writer_held_too_long_is_an_error_not_a_hang(tmp_path: Path) -> None:
    path = _table(tmp_path)
    holder = _holding_a_write(path)
    waiter = sqlite3.connect(path, factory=SerialWriterConnection, timeout=0.2)
    with pytest.raises(sqlite3.OperationalError, match="another writer in this process"):
        waiter.execute("INSERT INTO t VALUES ('b')")
    holder.close()
    waiter.close()


def test_reads_do_not_take_the_lock(tmp_path: Path) -> None:
    path = _table(tmp_path)
    holder = _holding_a_write(path)
    reader = sqlite3.connect(path, factory=SerialWriterConnection, timeout=0.2)
    assert reader.execute("SELECT count(*) FROM t").fetchone() == (0,)  # WAL: the old state
    holder.commit()
    holder.close()
    reader.close()


@pytest.mark.parametrize(
    ("statement", "writes"),
    [
        ("INSERT INTO t VALUES (1)", True),
        ("  update t set v = 1", True),
        ("DELETE FROM t", True),
        ("REPLACE INTO t VALUES (1)", True),
        ("SELECT * FROM t", False),
        ("PRAGMA journal_mode = WAL", False),
    ],
)
def test_which_statements_take_the_write_lock(statement: str, writes: bool) -> None:
    assert is_write(statement) is writes


def test_the_store_opens_its_writers_as_serial_writers(tmp_path: Path) -> None:
    store = open_store(tmp_path / "offboard.sqlite3")
    try:
        with store.engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            assert isinstance(raw, SerialWriterConnection)
    finally:
        store.close()


def _kept_by_this_module(work: Callable[[], None]) -> int:
    """Python memory still allocated from serial_writer.py after ``work`` (bytes)."""
    tracemalloc.start()
    try:
        work()
        gc.collect()
        snapshot = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    mine = tracemalloc.Filter(True, serial_writer.__file__)
    return sum(stat.size for stat in snapshot.filter_traces([mine]).statistics("filename"))


def test_statements_leave_nothing_behind_on_a_long_lived_connection(tmp_path: Path) -> None:
    """A daemon's pooled connections live as long as it does. Each cursor made by the serial
    writer left a weak reference in its connection's list of cursors that was never dropped
    (SQLite's own cursor() drops dead ones; ours bypassed it): 89 bytes a statement, every
    lease renewal and event poll included, for good (bench_store_growth.py --memory-passes)."""
    store = open_store(tmp_path / "state.sqlite3")

    def statements() -> None:
        for _ in range(1000):
            store.set_cursor("admin-events", "1")
            store.cursor("admin-events")
            with store.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1").all()

    try:
        statements()  # the pool's connections, compiled statements: made once
        kept = _kept_by_this_module(statements)
    finally:
        store.close()
    assert kept < 64 * 1024  # 350 KiB before
