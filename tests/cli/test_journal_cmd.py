"""`offboard journal list|show|runs|export` over a real store file."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert
from typer.testing import CliRunner

from offboard.cli.exit_codes import ExitCode
from offboard.cli.main import app
from offboard.core.journal import JournalRecord, Phase, Status
from offboard.store import open_store
from offboard.store.schema import runs

ADA_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"


@pytest.fixture
def store_file(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "state.sqlite3"
    store = open_store(path)
    now = datetime.now(UTC)
    run = store.start_run("apply", now - timedelta(minutes=5))
    old = store.start_run("apply", now - timedelta(days=3))
    common = {"run_id": run, "action_key": f"deactivate:{ADA_ID}:acc-1", "kind": "deactivate"}
    store.append(
        JournalRecord(
            at=now - timedelta(minutes=4), phase=Phase.INTENT, status=Status.PENDING,
            identity_id=ADA_ID, account_id="acc-1", email="Ada@example.com",
            rule="identity-disabled", reason="disabled in Keycloak", **common,
        )
    )  # fmt: skip
    store.append(
        JournalRecord(
            at=now - timedelta(minutes=3), phase=Phase.OUTCOME, status=Status.SUCCEEDED,
            identity_id=ADA_ID, account_id="acc-1", email="Ada@example.com", http_status=204,
            **common,
        )
    )  # fmt: skip
    store.append(
        JournalRecord(
            at=now - timedelta(days=3), run_id=old, action_key="note", phase=Phase.NOTE,
            status=Status.INFO, email="bob@example.com", detail="old news",
        )
    )  # fmt: skip
    summary = {"fingerprint": "abcdef1234567890", "actions_by_kind": {"deactivate": 1},
               "blocked": 0, "skipped": 2, "applied": {"succeeded": 1}}  # fmt: skip
    store.finish_run(run, now, "succeeded", summary)
    store.close()
    return path, run


def test_list_filters_by_user_and_since(runner: CliRunner, store_file: tuple[Path, str]) -> None:
    path, _ = store_file
    result = runner.invoke(
        app, ["journal", "list", "--store", str(path), "--user", "ada@EXAMPLE.com", "--format",
              "jsonl"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["phase"] for line in lines] == ["intent", "outcome"]
    recent = runner.invoke(
        app, ["journal", "list", "--store", str(path), "--since", "1d", "--format", "jsonl"]
    )
    assert "old news" not in recent.output
    assert len(recent.output.splitlines()) == 2


def test_list_by_keycloak_id_as_a_table(runner: CliRunner, store_file: tuple[Path, str]) -> None:
    path, _ = store_file
    result = runner.invoke(app, ["journal", "list", "--store", str(path), "--user", ADA_ID])
    assert result.exit_code == 0, result.output
    assert "2 journal records" in result.output
    assert "succeeded" in result.output


def test_show_a_run_by_prefix(runner: CliRunner, store_file: tuple[Path, str]) -> None:
    path, run = store_file
    result = runner.invoke(app, ["journal", "show", run[:8], "--store", str(path)])
    assert result.exit_code == 0, result.output
    assert f"run {run} (apply): succeeded" in result.output
    missing = runner.invoke(app, ["journal", "show", "zzzz", "--store", str(path)])
    assert missing.exit_code == ExitCode.ERROR
    assert "no run with an id starting 'zzzz'" in missing.output


def test_runs_lists_newest_first(runner: CliRunner, store_file: tuple[Path, str]) -> None:
    path, _ = store_file
    result = runner.invoke(app, ["journal", "runs", "--store", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 deactivate, 2 skipped; applied: 1 succeeded; plan abcdef123456" in result.output
    assert "{" not in result.output  # words, not Python dicts
    raw = runner.invoke(app, ["journal", "runs", "--store", str(path), "--format", "json"])
    assert json.loads(raw.output)[0]["summary"]["applied"] == {"succeeded": 1}


def test_export_csv_to_a_file(
    runner: CliRunner, store_file: tuple[Path, str], tmp_path: Path
) -> None:
    path, _ = store_file
    out = tmp_path / "journal.csv"
    result = runner.invoke(
        app, ["journal", "export", "--store", str(path), "--format", "csv", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [row["phase"] for row in rows] == ["intent", "outcome", "note"]
    assert rows[1]["http_status"] == "204"


def test_bad_since_is_a_usage_error(runner: CliRunner, store_file: tuple[Path, str]) -> None:
    path, _ = store_file
    result = runner.invoke(app, ["journal", "list", "--store", str(path), "--since", "yesterday"])
    assert result.exit_code == ExitCode.USAGE
    assert "neither a duration (2h, 7d) nor an ISO date" in result.output


@pytest.mark.parametrize(
    "args", [["list", "--limit", "0"], ["list", "--limit", "-3"], ["runs", "--limit", "-1"]]
)
def test_a_limit_below_one_is_a_usage_error(
    runner: CliRunner, store_file: tuple[Path, str], args: list[str]
) -> None:
    path, _ = store_file
    result = runner.invoke(app, ["journal", *args, "--store", str(path)])
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "--limit" in result.output
    assert "1" in result.output


def test_list_limit_one_is_the_newest_record(
    runner: CliRunner, store_file: tuple[Path, str]
) -> None:
    path, _ = store_file
    result = runner.invoke(
        app, ["journal", "list", "--store", str(path), "--limit", "1", "--format", "jsonl"]
    )
    assert result.exit_code == ExitCode.OK, result.output
    assert len(result.output.splitlines()) == 1


def test_export_offers_only_the_formats_it_writes(
    runner: CliRunner, store_file: tuple[Path, str]
) -> None:
    path, _ = store_file
    helped = runner.invoke(app, ["journal", "export", "--help"])
    assert "jsonl|csv" in helped.output  # <jsonl|csv> or [jsonl|csv], as typer's release has it
    assert "table" not in helped.output
    result = runner.invoke(app, ["journal", "export", "--store", str(path), "--format", "table"])
    assert result.exit_code == ExitCode.USAGE
    assert "jsonl" in result.output


@pytest.mark.parametrize("since", ["yesterday", "15"])
def test_a_bad_since_names_the_option(
    runner: CliRunner, store_file: tuple[Path, str], since: str
) -> None:
    path, _ = store_file
    result = runner.invoke(app, ["journal", "list", "--store", str(path), "--since", since])
    assert result.exit_code == ExitCode.USAGE
    assert "Invalid value for '--since':" in result.output


def test_show_finds_a_run_older_than_the_newest_ten_thousand(
    runner: CliRunner, store_file: tuple[Path, str]
) -> None:
    """A daemon makes a run per pass and per wave: 146 a day at the defaults. `show` looked
    for the prefix among the newest 10,000 runs only, so a run of ten weeks ago that acted
    was "no run"; and it read those 10,000 runs each time (0.2 s)."""
    path, _ = store_file
    store = open_store(path)
    acted = store.start_run("daemon", datetime.now(UTC) - timedelta(days=90))
    later = datetime.now(UTC) - timedelta(days=60)
    with store.engine.begin() as connection:
        connection.execute(
            insert(runs),
            [{"id": f"quiet{n:08d}", "kind": "daemon", "started_at": later, "status": "applied",
              "summary": "{}"} for n in range(10_001)],
        )  # fmt: skip
    store.close()

    shown = runner.invoke(app, ["journal", "show", acted[:10], "--store", str(path)])

    assert shown.exit_code == 0, shown.output
    assert f"run {acted} (daemon)" in shown.output
    several = runner.invoke(app, ["journal", "show", "quiet0000000", "--store", str(path)])
    assert several.exit_code == ExitCode.ERROR
    assert "10 runs with an id starting 'quiet0000000'" in several.output
