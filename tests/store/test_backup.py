"""Backup and restore on every backend, and across them: everything comes back as it was."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from offboard.core.accounts import AccountId
from offboard.core.identities import IdentityId
from offboard.core.journal import JournalRecord, Phase, SnapshotSummary, Status
from offboard.core.links import Link
from offboard.store import SqlStore, StoreVersionError, open_store, store_engine
from offboard.store.backup import BackupError, backup, restore
from offboard.store.schema import metadata, store_meta
from tests.store.conftest import POSTGRES_URL, _empty_postgres

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _fill(store: SqlStore) -> None:
    links = [
        Link(IdentityId(f"id-{n}"), AccountId(f"acc-{n}"), f"u{n}@example.com", T0)
        for n in range(1500)  # more than one copy batch
    ]
    store.upsert_links(links)
    run = store.start_run("apply", T0)
    store.save_plan(run, "fp-1", '{"actions": []}')
    for minute, phase in enumerate((Phase.INTENT, Phase.OUTCOME)):
        store.append(
            JournalRecord(
                at=T0 + timedelta(minutes=minute), run_id=run, action_key="deactivate:id-1",
                phase=phase, status=Status.SUCCEEDED if minute else Status.PENDING,
                kind="deactivate", identity_id="id-1", account_id="acc-1", fingerprint="fp-1",
            )
        )  # fmt: skip
    store.finish_run(run, T0 + timedelta(minutes=5), "done", {"actions": 1})
    store.record_snapshot(SnapshotSummary("keycloak", T0, 1500, True, user_count=1500))
    store.set_cursor("admin-events", "42")
    assert store.acquire_lease("daemon", "replica-a", timedelta(seconds=30), T0)


def _contents(location: str | Path) -> dict[str, list[tuple[Any, ...]]]:
    engine = store_engine(location)
    try:
        with engine.connect() as connection:
            return {
                table.name: sorted(tuple(row) for row in connection.execute(select(table)))
                for table in metadata.sorted_tables
            }
    finally:
        engine.dispose()


def _fresh_target(kind: str, tmp_path: Path) -> str:
    if kind == "postgresql":
        _empty_postgres(POSTGRES_URL)
        return POSTGRES_URL
    return str(tmp_path / "restored" / "offboard.sqlite3")


@pytest.mark.parametrize("target_kind", ["sqlite", "postgresql"])
def test_a_backup_restores_everything_on_either_backend(
    store_url: str, target_kind: str, tmp_path: Path
) -> None:
    if target_kind == "postgresql" and not POSTGRES_URL:
        pytest.skip("set OFFBOARD_TEST_POSTGRES_URL to test on PostgreSQL")
    source = open_store(store_url)
    _fill(source)
    source.close()
    before = _contents(store_url)
    file = tmp_path / "backup.sqlite3"

    engine = store_engine(store_url)
    copied = backup(engine, file)
    engine.dispose()
    assert copied.rows["links"] == 1500
    assert copied.rows["journal"] == 2
    assert file.read_bytes()[:16] == b"SQLite format 3\x00"

    target = _fresh_target(target_kind, tmp_path)
    engine = store_engine(target)
    restored = restore(engine, file)
    engine.dispose()
    assert restored.rows == copied.rows
    assert _contents(target) == before

    # The restored store works, ids included: the next journal row follows the copied ones.
    reopened = open_store(target)
    seq = reopened.append(reopened.journal()[0])
    assert seq == 3
    assert reopened.cursor("admin-events") == "42"
    reopened.close()


def test_a_restore_never_touches_a_store_that_holds_data(store_url: str, tmp_path: Path) -> None:
    store = open_store(store_url)
    _fill(store)
    file = tmp_path / "backup.sqlite3"
    backup(store.engine, file)
    store.set_cursor("admin-events", "43")
    with pytest.raises(BackupError, match="not empty"):
        restore(store.engine, file)
    assert store.cursor("admin-events") == "43"
    store.close()


def test_a_backup_never_overwrites_a_file(store: SqlStore, tmp_path: Path) -> None:
    file = tmp_path / "taken.sqlite3"
    file.write_text("something precious")
    with pytest.raises(BackupError, match="exists"):
        backup(store.engine, file)
    assert file.read_text() == "something precious"


def test_a_file_that_is_not_a_backup_is_refused(store: SqlStore, tmp_path: Path) -> None:
    file = tmp_path / "notes.txt"
    file.write_text("not a database")
    with pytest.raises(BackupError, match="not an offboard backup"):
        restore(store.engine, file)


def test_a_backup_from_a_newer_offboard_is_refused_untouched(tmp_path: Path) -> None:
    newer = open_store(tmp_path / "newer.sqlite3")
    with newer.engine.begin() as connection:
        connection.execute(store_meta.update().values(value="99"))
    newer.close()
    file = tmp_path / "newer-backup.sqlite3"
    with (
        closing(sqlite3.connect(tmp_path / "newer.sqlite3")) as live,
        closing(sqlite3.connect(file)) as copy,
    ):
        live.backup(copy)  # as a newer offboard's `store backup` would have written it
    taken = file.read_bytes()
    target = store_engine(tmp_path / "target.sqlite3")
    with pytest.raises(StoreVersionError):
        restore(target, file)
    target.dispose()
    assert file.read_bytes() == taken
