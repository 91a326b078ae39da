"""Opening for writing or for reading only, and refusing another application's database
(issue 19.3), on every backend; file modes of a new SQLite store (issue 19.9)."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from offboard.store import StoreLocationError, open_store
from offboard.store.paths import database_url, shown

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _tables(url: str) -> set[str]:
    engine = create_engine(database_url(url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_a_reading_open_reads_and_cannot_write(store_url: str) -> None:
    writer = open_store(store_url)
    run = writer.start_run("plan", NOW)
    writer.close()
    reader = open_store(store_url, read_only=True)
    try:
        assert [r.id for r in reader.runs()] == [run]
        with pytest.raises(SQLAlchemyError):
            reader.start_run("plan", NOW)
    finally:
        reader.close()


def test_another_applications_database_is_refused_and_left_alone(store_url: str) -> None:
    if "://" not in store_url:
        Path(store_url).parent.mkdir(parents=True)
    engine = create_engine(database_url(store_url))
    with engine.begin() as connection:
        connection.execute(text("create table customers (id integer primary key)"))
    engine.dispose()
    for read_only in (False, True):
        with pytest.raises(StoreLocationError, match="belongs to another application"):
            open_store(store_url, read_only=read_only)
    assert _tables(store_url) == {"customers"}


def test_an_empty_database_is_made_a_store_only_for_writing(store_url: str) -> None:
    if "://" not in store_url:
        Path(store_url).parent.mkdir(parents=True)
        Path(store_url).touch()
    with pytest.raises(StoreLocationError, match="holds no offboard store"):
        open_store(store_url, read_only=True)
    open_store(store_url).close()
    open_store(store_url, read_only=True).close()


def test_a_missing_file_is_not_created_for_reading(tmp_path: Path) -> None:
    missing = tmp_path / "state" / "offboard.sqlite3"
    with pytest.raises(StoreLocationError, match="no store at"):
        open_store(missing, read_only=True)
    assert not missing.parent.exists()


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_a_new_store_is_private_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    path = tmp_path / "state" / "offboard" / "offboard.sqlite3"
    previous = os.umask(umask)
    try:
        store = open_store(path)
        store.start_run("plan", NOW)  # the WAL file exists while the store is open
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in path.parent.iterdir()}
        store.close()
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700
    assert len(modes) >= 2, modes  # the database and its -wal at least
    assert set(modes.values()) == {0o600}, modes


@pytest.mark.parametrize(
    ("location", "hidden"),
    [
        ("postgresql://offboard:pw-123@db/offboard", "postgresql://offboard:***@db/offboard"),
        ("postgresql:/offboard:pw-123@db/offboard", "postgresql:(hidden)"),
        ("postgresql://offboard:pw-123@db:port/offboard", "postgresql://(unparsable, hidden)"),
    ],
)
def test_locations_are_shown_without_passwords(location: str, hidden: str) -> None:
    assert shown(location) == hidden


def test_a_bare_postgresql_url_means_the_shipped_driver() -> None:
    assert database_url("postgresql://db/offboard").drivername == "postgresql+psycopg"


def test_a_file_where_a_folder_must_be_is_a_location_error(tmp_path: Path) -> None:
    config = tmp_path / "offboard.toml"
    config.write_text("")
    for path in (config / "s.sqlite3", config / "deeper" / "s.sqlite3"):
        with pytest.raises(StoreLocationError) as raised:
            open_store(path)
        assert str(path) in str(raised.value)
        assert "Not a directory" in str(raised.value)
        assert f"{config} is a file" in str(raised.value)


def test_a_folder_that_cannot_hold_files_is_a_location_error(tmp_path: Path) -> None:
    with pytest.raises(StoreLocationError, match=r"/proc/s\.sqlite3: No such file"):
        open_store(Path("/proc/s.sqlite3"))  # a virtual file system: no new files
    with pytest.raises(StoreLocationError, match="it is a folder"):
        open_store(tmp_path)
