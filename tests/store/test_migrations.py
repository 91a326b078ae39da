"""Migrations: up from empty, idempotent on reopen, and a newer store is refused untouched."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from offboard.store import SCHEMA_VERSION, StoreVersionError, default_state_path, open_store
from offboard.store.paths import database_url
from offboard.store.schema import metadata


def _columns(url: str) -> dict[str, set[str]]:
    engine = create_engine(f"sqlite:///{url}")
    inspector = inspect(engine)
    found = {t: {c["name"] for c in inspector.get_columns(t)} for t in inspector.get_table_names()}
    engine.dispose()
    return found


def test_migrations_from_empty_create_exactly_the_declared_tables(tmp_path: Path) -> None:
    path = tmp_path / "fresh.sqlite3"
    open_store(path).close()
    declared = {t.name: {c.name for c in t.columns} for t in metadata.sorted_tables}
    found = _columns(str(path))
    assert found.pop("alembic_version") == {"version_num"}
    assert found == declared


def test_migrations_from_empty_match_the_declared_schema_on_every_backend(store_url: str) -> None:
    open_store(store_url).close()  # store_url is an empty database: this migrates from nothing
    engine = create_engine(database_url(store_url))
    with engine.connect() as connection:
        drift = compare_metadata(MigrationContext.configure(connection), metadata)
    engine.dispose()
    assert drift == []


def test_reopening_keeps_the_data_and_the_version(tmp_path: Path) -> None:
    path = tmp_path / "again.sqlite3"
    first = open_store(path)
    first.set_cursor("c", "kept")
    first.close()
    second = open_store(path)
    assert second.cursor("c") == "kept"
    with second.engine.connect() as connection:
        version = connection.scalar(text("SELECT value FROM store_meta"))
    assert version == str(SCHEMA_VERSION)
    second.close()


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    store = open_store(tmp_path / "wal.sqlite3")
    with store.engine.connect() as connection:
        assert connection.scalar(text("PRAGMA journal_mode")) == "wal"
        assert connection.scalar(text("PRAGMA busy_timeout")) > 0
    store.close()


def _tamper(path: Path, statement: str, **params: str) -> None:
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text(statement), params)
    engine.dispose()


def test_a_store_from_a_newer_offboard_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "newer.sqlite3"
    open_store(path).close()
    _tamper(path, "UPDATE store_meta SET value = :v", v=str(SCHEMA_VERSION + 1))
    with pytest.raises(StoreVersionError, match="Upgrade offboard") as refused:
        open_store(path)
    assert refused.value.found == SCHEMA_VERSION + 1
    assert _columns(str(path))["journal"]  # untouched, not migrated down


def test_an_unknown_migration_revision_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "unknown.sqlite3"
    open_store(path).close()
    _tamper(path, "UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(StoreVersionError, match="newer offboard"):
        open_store(path)


def test_default_state_path_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_state_path() == tmp_path / "offboard" / "offboard.sqlite3"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    expected = tmp_path / "home" / ".local" / "state" / "offboard" / "offboard.sqlite3"
    assert default_state_path() == expected


def test_a_version_1_store_is_upgraded_in_place_keeping_its_links(tmp_path: Path) -> None:
    from alembic import command

    from offboard.store.migrating import _alembic_config

    path = tmp_path / "v1.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(text("INSERT INTO store_meta VALUES ('schema_version', '1')"))
        connection.execute(
            text("INSERT INTO links (identity_id, account_id, linked_at, deactivated_by_offboard)"
                 " VALUES ('kc-1', 'acc-1', '2026-11-28 00:00:00.000000', 0)")
        )  # fmt: skip
    engine.dispose()

    store = open_store(path)
    try:
        assert [link.account_id for link in store.links(account_ids=["acc-1"])] == ["acc-1"]
        with store.engine.connect() as connection:
            indexes = {i["name"] for i in inspect(connection).get_indexes("links")}
            version = connection.scalar(text("SELECT value FROM store_meta"))
        assert "ix_links_account_id" in indexes
        assert version == str(SCHEMA_VERSION) == "3"
    finally:
        store.close()


def _open_when_released(path: str, barrier: Any, errors: Any) -> None:
    """Child process: wait for the others, then open (and so migrate) the same store."""
    barrier.wait()
    try:
        open_store(path).close()
    except Exception as error:  # reported to the parent, which fails the test
        errors.put(repr(error))


@pytest.mark.slow
def test_processes_opening_one_empty_store_at_once_all_succeed(tmp_path: Path) -> None:
    """A daemon and a CLI started together both migrate; SQLite commits each CREATE TABLE
    at once, so the slower one used to find half a schema and fail."""
    context = multiprocessing.get_context("spawn")
    for trial in range(5):
        path = str(tmp_path / f"race-{trial}.sqlite3")
        barrier, errors = context.Barrier(3), context.Queue()
        racers = [context.Process(target=_open_when_released, args=(path, barrier, errors))
                  for _ in range(3)]  # fmt: skip
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join(60)
        assert errors.empty(), errors.get()
        assert all(racer.exitcode == 0 for racer in racers)
