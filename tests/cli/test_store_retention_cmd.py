"""`offboard store sizes` and `offboard store prune`: what the store holds, table by table,
and forgetting on demand what the daemon would (a dry run first)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from offboard.cli import store_cmd
from offboard.cli.exit_codes import ExitCode
from offboard.cli.main import app
from offboard.core.journal import JournalRecord, Phase, Status
from offboard.store import open_store, retention

NOW = datetime.now(UTC)


def _year_old_store(path: Path) -> str:
    """Five quiet passes and one that acted, 40 days ago; the acting one's id."""
    store = open_store(path)
    old = NOW - timedelta(days=40)
    for n in range(5):
        run = store.start_run("daemon", old + timedelta(minutes=15 * n))
        store.save_plan(run, "fp", "{}")
        store.finish_run(run, old + timedelta(minutes=15 * n, seconds=3), "applied", {})
    acted = store.start_run("daemon", old + timedelta(hours=2))
    store.save_plan(acted, "fp", "{}")
    store.append(
        JournalRecord(at=old, run_id=acted, action_key="deactivate:id-1:acc-1",
                      phase=Phase.INTENT, status=Status.PENDING, kind="deactivate",
                      identity_id="id-1", account_id="acc-1", fingerprint="fp")
    )  # fmt: skip
    store.finish_run(acted, old + timedelta(hours=2), "applied", {})
    store.close()
    return acted


def _runs_left(path: Path) -> list[str]:
    store = open_store(path)
    try:
        return [run.id for run in store.runs(limit=100)]
    finally:
        store.close()


def test_sizes_lists_every_table_with_its_rows(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    _year_old_store(path)

    shown = runner.invoke(app, ["store", "sizes", "--store", str(path)])

    assert shown.exit_code == 0, shown.output
    lines = {line.split()[0]: line.split()[1:] for line in shown.output.splitlines() if line}
    assert lines["runs"][0] == "6"
    assert lines["plans"][0] == "6"
    assert lines["journal"][0] == "1"
    assert "total" in lines


def test_prune_dry_run_says_what_would_go_and_keeps_it(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    _year_old_store(path)

    said = runner.invoke(app, ["store", "prune", "--dry-run", "--keep-newest", "0",
                               "--older-than", "30d", "--store", str(path)])  # fmt: skip

    assert said.exit_code == 0, said.output
    assert "would forget 5 runs that journaled nothing" in said.output
    assert len(_runs_left(path)) == 6


def test_prune_forgets_quiet_runs_and_keeps_the_one_that_acted(
    runner: CliRunner, tmp_path: Path
) -> None:
    path = tmp_path / "state.sqlite3"
    acted = _year_old_store(path)

    done = runner.invoke(app, ["store", "prune", "--older-than", "7d", "--keep-newest", "0",
                               "--store", str(path)])  # fmt: skip

    assert done.exit_code == 0, done.output
    assert "forgot 5 runs that journaled nothing (and 5 plans)" in done.output
    assert "the journal is kept whole" in done.output
    assert _runs_left(path) == [acted]


def test_prune_keeps_the_newest_runs_and_takes_the_configured_retention(
    runner: CliRunner, tmp_path: Path, config_file: Path
) -> None:
    path = tmp_path / "state.sqlite3"
    _year_old_store(path)
    config_file.write_text(
        config_file.read_text() + f'\n[store]\npath = "{path}"\nretention = "7d"\n'
    )

    done = runner.invoke(app, ["--config", str(config_file), "store", "prune"])

    assert done.exit_code == 0, done.output
    assert "nothing to forget older than 7d" in done.output
    assert len(_runs_left(path)) == 6


def test_prune_refuses_a_retention_shorter_than_a_day(runner: CliRunner, tmp_path: Path) -> None:
    refused = runner.invoke(app, ["store", "prune", "--older-than", "2h",
                                  "--store", str(tmp_path / "s.sqlite3")])  # fmt: skip
    assert refused.exit_code == ExitCode.USAGE
    assert "at least 1d" in refused.output


def test_the_command_keeps_as_many_newest_runs_as_the_daemon() -> None:
    assert store_cmd.KEEP_NEWEST_RUNS == retention.KEEP_NEWEST_RUNS
