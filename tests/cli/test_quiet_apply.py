"""`apply --yes` prints counts and the actions that need a look, not a row per action."""

from __future__ import annotations

from typer.testing import CliRunner

from offboard.cli.demo import DOMAIN, person
from offboard.cli.exit_codes import ExitCode
from offboard.cli.summaries import show_apply_summary
from offboard.core.journal import Status
from offboard.executor import ApplyReport
from offboard.executor.outcomes import Outcome
from tests.cli.test_run_commands import World, linked, world  # noqa: F401  (fixtures)
from tests.executor.fakes import action


def test_yes_prints_counts_and_no_row_per_action(linked: World, runner: CliRunner) -> None:  # noqa: F811
    leavers = [person(n) for n in (10, 11, 12)]
    for name in leavers:
        linked.disable(name)
    code, output = linked.run(runner, "apply", "--yes")
    assert code == ExitCode.OK, output
    assert "3 actions" in output
    assert "readback_verified=3" in output
    assert not any(f"{name}@{DOMAIN}" in output for name in leavers)
    assert all(linked.account_status(f"{name}@{DOMAIN}") == "inactive" for name in leavers)


def test_full_shows_every_row(linked: World, runner: CliRunner) -> None:  # noqa: F811
    linked.disable(person(13))
    code, output = linked.run(runner, "apply", "--yes", "--full")
    assert code == ExitCode.OK, output
    assert output.count(f"{person(13)}@{DOMAIN}") >= 2  # the plan table and the outcome table


def test_the_summary_lists_each_action_not_done() -> None:
    from rich.console import Console

    done = Outcome(action(1), Status.SUCCEEDED, "disable", 204, 1, readback=Status.VERIFIED)
    failed = Outcome(action(2), Status.FAILED, "gave up after 5 attempts", 503, 5)
    mismatch = Outcome(action(3), Status.SUCCEEDED, "disable", 204, 1, readback=Status.MISMATCH)
    skipped = Outcome(action(4), Status.SKIPPED, "enabled again")
    console = Console(record=True, width=200)
    show_apply_summary(ApplyReport("run-1", "fp", (done, failed, mismatch, skipped)), console)
    text = console.export_text()
    assert "2 not done" in text
    assert "user2@example.com" in text
    assert "user3@example.com" in text
    assert "user1@example.com" not in text
    assert "user4@example.com" not in text
