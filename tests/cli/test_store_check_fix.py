"""`config check`'s store line: the fix fits what went wrong (and never shows a password)."""

from __future__ import annotations

from pathlib import Path

import pytest

from offboard.cli.wiring import _store_check
from offboard.settings import load_settings


def test_an_unreachable_postgresql_says_to_check_it_is_running_there(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OFFBOARD_STORE__URL", "postgresql://offboard:pw-xyz@127.0.0.1:9/offboard")
    result = _store_check(load_settings(config_file))
    assert not result.ok
    assert "PostgreSQL is running and reachable at 127.0.0.1:9" in result.fix
    assert "upgrade offboard" not in result.fix
    assert "pw-xyz" not in result.detail + result.fix


def test_a_damaged_file_says_to_restore_or_move_it(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    damaged = tmp_path / "s.sqlite3"
    damaged.write_bytes(b"not a database" * 100)
    monkeypatch.setenv("OFFBOARD_STORE__PATH", str(damaged))
    result = _store_check(load_settings(config_file))
    assert not result.ok
    assert "restore" in result.fix
    assert "upgrade offboard" not in result.fix


def test_a_path_that_cannot_be_created_says_to_check_store_path(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OFFBOARD_STORE__PATH", str(config_file / "s.sqlite3"))
    result = _store_check(load_settings(config_file))
    assert not result.ok
    assert "check store.path" in result.fix
