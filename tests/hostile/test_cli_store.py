"""Issue 19.3: `--store` and `store.path` pointed at the wrong thing.

URLs are URLs (never a folder named after one), reading commands open an existing store
read-only and refuse a missing one, and another application's SQLite file is refused
instead of having offboard's tables migrated into it. No password is ever printed.
"""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from offboard.cli.exit_codes import ExitCode
from offboard.cli.main import app
from offboard.core.journal import JournalRecord, Phase, Status
from offboard.store import open_store
from tests.cli.conftest import VALID_TOML
from tests.hostile.cli_env import clean_cli_env as clean_cli_env  # autouse
from tests.hostile.conftest import HostileRow

PASSWORD = "Sup3rSecretPw"


def _crashed(result: Result) -> bool:
    """An unexpected error: one the CLI did not explain in a line of its own."""
    unexplained = result.exception is not None and not isinstance(result.exception, SystemExit)
    return unexplained or "unexpected error" in result.output or "Traceback" in result.output


def _tree(root: Path) -> set[Path]:
    return {p.relative_to(root) for p in root.rglob("*")}


def _foreign(path: Path) -> str:
    """Another application's SQLite file; returns a digest of its schema and rows."""
    with sqlite3.connect(path) as connection:
        connection.execute("create table customers (id integer primary key, name text)")
        connection.execute("insert into customers (name) values ('Ada')")
    return _digest(path)


def _digest(path: Path) -> str:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        rows = connection.execute("select type, name, sql from sqlite_master order by name")
        return hashlib.sha256(repr(rows.fetchall()).encode()).hexdigest()


def _real_store(path: Path) -> None:
    store = open_store(path)
    run = store.start_run("apply", datetime.now(UTC))
    store.append(
        JournalRecord(
            run_id=run,
            at=datetime.now(UTC),
            action_key="deactivate:kc-1:acc-1",
            phase=Phase.INTENT,
            status=Status.PENDING,
            kind="deactivate",
            fingerprint="f" * 64,
            identity_id="kc-1",
            account_id="acc-1",
            email="ada@example.com",
            rule="identity-disabled",
            reason="left",
        )
    )
    store.close()


def test_store_locations_that_are_wrong_are_refused_without_side_effects(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hostile_row: HostileRow
) -> None:
    foreign = tmp_path / "crm.sqlite3"
    foreign_digest = _foreign(foreign)
    (tmp_path / "empty.sqlite3").touch()
    wanted = {
        f"postgresql://offboard:{PASSWORD}@127.0.0.1:1/offboard": "cannot open the store",
        f"postgresql+psycopg://offboard:{PASSWORD}@127.0.0.1:1/x": "cannot open the store",
        f"postgresql://offboard:{PASSWORD}@127.0.0.1:port/offboard": "cannot parse",
        f"postgresql:/offboard:{PASSWORD}@127.0.0.1/offboard": "without '//'",
        str(tmp_path / "mistyped.sqlite3"): "no store at",
        str(tmp_path / "no-such-folder" / "offboard.sqlite3"): "no store at",
        str(foreign): "belongs to another application",
        str(tmp_path / "empty.sqlite3"): "holds no offboard store",
    }
    before = _tree(tmp_path)
    wrongful = crashes = leaked = 0
    for location, message in wanted.items():
        for command in (["list"], ["runs"], ["export", "--format", "csv"], ["show", "x"]):
            result = runner.invoke(app, ["journal", *command, "--store", location])
            crashes += _crashed(result)
            leaked += PASSWORD in result.output
            wrongful += result.exit_code == 0 or message not in result.output
            assert result.exit_code == ExitCode.STORE, (location, result.output)
            assert message in result.output, (location, result.output)
    # The default store, when it was never made, is not made by a reading command either.
    result = runner.invoke(app, ["journal", "list", "--store", str(tmp_path / "state" / "x")])
    wrongful += result.exit_code == 0
    wrongful += len(_tree(tmp_path) ^ before) + (_digest(foreign) != foreign_digest)
    assert _tree(tmp_path) == before
    assert _digest(foreign) == foreign_digest

    # A writing command pointed at another application's file refuses it too.
    config = tmp_path / "offboard.toml"
    config.write_text(VALID_TOML + f'\n[store]\npath = "{foreign}"\n', encoding="utf-8")
    monkeypatch.setenv("OFFBOARD_KEYCLOAK__CLIENT_SECRET", "kc-secret-value")
    monkeypatch.setenv("OFFBOARD_ATLASSIAN__API_KEY", "atl-key-value")
    result = runner.invoke(app, ["--config", str(config), "plan"])
    crashes += _crashed(result)
    wrongful += _digest(foreign) != foreign_digest
    assert "belongs to another application" in result.output, result.output
    assert _digest(foreign) == foreign_digest

    # A real store is read, and left byte for byte as it was (read-only).
    real = tmp_path / "real.sqlite3"
    _real_store(real)
    bytes_before = real.read_bytes()
    result = runner.invoke(app, ["journal", "list", "--store", str(real), "--format", "jsonl"])
    lost = int("ada@example.com" not in result.output)
    assert result.exit_code == 0, result.output
    assert real.read_bytes() == bytes_before
    assert (wrongful, crashes, leaked, lost) == (0, 0, 0, 0)
    hostile_row(
        area="--store and store.path (CLI)",
        inputs=len(wanted) + 3,
        wrongful_actions=wrongful,
        crashes=crashes,
        secrets_leaked=leaked,
        lost_actions=lost,
        note="URLs with passwords, a URL missing //, mistyped paths, another app's SQLite",
    )


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
