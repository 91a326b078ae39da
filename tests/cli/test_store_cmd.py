"""`offboard store migrate|backup|restore` and `--version`: an older store is upgraded only
on purpose, and a backup taken by the command restores by the command."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from offboard.cli.exit_codes import ExitCode
from offboard.cli.main import app
from offboard.cli.wiring import open_configured_store
from offboard.settings import load_settings
from offboard.store import StoreMigrationPendingError, open_store
from offboard.store.migrating import _alembic_config


def _version_1_store(path: Path) -> None:
    """A store as offboard 0.1 with schema version 1 left it."""
    engine = create_engine(f"sqlite:///{path}")
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(text("INSERT INTO store_meta VALUES ('schema_version', '1')"))
        connection.execute(text("INSERT INTO cursors VALUES ('admin-events', '7')"))
    engine.dispose()


def test_version_prints_the_installed_version(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"offboard {version('offboard')}"


def test_check_reports_a_pending_migration_and_migrate_applies_it(
    runner: CliRunner, tmp_path: Path
) -> None:
    store = tmp_path / "old.sqlite3"
    _version_1_store(store)

    check = runner.invoke(app, ["store", "migrate", "--check", "--store", str(store)])
    assert check.exit_code == 1
    assert "pending" in check.output

    refused = runner.invoke(app, ["journal", "list", "--store", str(store)])
    assert refused.exit_code == ExitCode.STORE
    assert "offboard store migrate" in refused.output

    migrated = runner.invoke(app, ["store", "migrate", "--store", str(store)])
    assert migrated.exit_code == 0, migrated.output
    assert "migrated from 0001" in migrated.output
    again = runner.invoke(app, ["store", "migrate", "--check", "--store", str(store)])
    assert again.exit_code == 0
    assert "up to date" in again.output
    reopened = open_store(store, upgrade=False)
    assert reopened.cursor("admin-events") == "7"
    reopened.close()


def test_auto_migrate_upgrades_on_open_when_configured(
    runner: CliRunner, config_file: Path, tmp_path: Path
) -> None:
    store = tmp_path / "old.sqlite3"
    _version_1_store(store)
    settings = load_settings(config_file)
    assert not settings.store.auto_migrate
    with pytest.raises(StoreMigrationPendingError):
        open_configured_store(settings, str(store))
    config_file.write_text(
        config_file.read_text() + f'\n[store]\npath = "{store}"\nauto_migrate = true\n'
    )
    open_configured_store(load_settings(config_file)).close()
    check = runner.invoke(app, ["--config", str(config_file), "store", "migrate", "--check"])
    assert check.exit_code == 0
    # Reading commands never write: they read the store now that it is current.
    listed = runner.invoke(app, ["--config", str(config_file), "journal", "list"])
    assert listed.exit_code == 0, listed.output


def test_an_empty_store_is_created_without_asking(runner: CliRunner, tmp_path: Path) -> None:
    store = tmp_path / "new" / "offboard.sqlite3"
    open_store(store, upgrade=False).close()  # what a writing command does, auto_migrate off
    check = runner.invoke(app, ["store", "migrate", "--check", "--store", str(store)])
    assert check.exit_code == 0, check.output


def test_backup_then_restore_by_the_commands(runner: CliRunner, tmp_path: Path) -> None:
    live = open_store(tmp_path / "live.sqlite3")
    live.set_cursor("admin-events", "99")
    live.close()
    file = tmp_path / "backups" / "b.sqlite3"

    taken = runner.invoke(
        app, ["store", "backup", str(file), "--store", str(tmp_path / "live.sqlite3")]
    )
    assert taken.exit_code == 0, taken.output
    assert "backed up" in taken.output
    twice = runner.invoke(
        app, ["store", "backup", str(file), "--store", str(tmp_path / "live.sqlite3")]
    )
    assert twice.exit_code == 1
    assert "never overwrites" in twice.output

    target = tmp_path / "restored.sqlite3"
    restored = runner.invoke(app, ["store", "restore", str(file), "--store", str(target)])
    assert restored.exit_code == 0, restored.output
    assert "cursors 1" in restored.output
    back = open_store(target)
    assert back.cursor("admin-events") == "99"
    back.close()
