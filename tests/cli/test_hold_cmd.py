"""`offboard hold show|release` and held actions in `apply`, against both emulators."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from offboard.cli.demo import DOMAIN, person
from offboard.cli.exit_codes import ExitCode
from offboard.store import open_store
from tests.cli.test_run_commands import World, linked, world  # noqa: F401 - fixtures


def _budget_of_one(chosen: World) -> None:
    text = chosen.config.read_text(encoding="utf-8")
    chosen.config.write_text(text + "\n[policy.budget]\nhour_max_actions = 1\n", encoding="utf-8")


def test_hold_show_without_a_hold(world: World, runner: CliRunner) -> None:  # noqa: F811
    code, output = world.run(runner, "hold", "show")
    assert code == ExitCode.OK, output
    assert "budget hour: 0 of 25 deprovisioning actions used, 25 left" in output
    assert "no hold" in output


def test_held_actions_wait_on_the_hold_until_a_human_releases_it(
    linked: World,  # noqa: F811 - the fixture
    runner: CliRunner,
    tmp_path: Path,
) -> None:
    _budget_of_one(linked)
    leavers = [person(n) for n in (3, 4, 5)]
    for name in leavers:
        linked.disable(name)
    code, output = linked.run(runner, "apply", "--yes")
    assert code == ExitCode.BLOCKED, output
    assert "2 deprovisioning actions held, not sent" in output
    assert "held, not sent: held, not sent" not in " ".join(output.split())
    statuses = [linked.account_status(f"{name}@{DOMAIN}") for name in leavers]
    assert sorted(statuses) == ["active", "active", "inactive"]

    code, output = linked.run(runner, "hold", "show")
    assert code == ExitCode.BLOCKED, output
    assert "budget hour: 1 of 1 deprovisioning actions used, 0 left" in output
    assert "put by deprovisioning-budget" in output
    assert "2 people waiting" in output
    waiting = [n for n, s in zip(leavers, statuses, strict=True) if s == "active"]
    for name in waiting:
        assert f"{name}@{DOMAIN}" in output

    code, output = linked.run(runner, "plan")
    assert code == ExitCode.CHANGES, output
    assert "deprovisioning is held (hold #1" in output
    code, output = linked.run(runner, "apply", "--yes")  # still held: no new request
    assert code == ExitCode.BLOCKED, output
    code, output = linked.run(runner, "hold", "release", "--yes", "--reason", "")
    assert code == ExitCode.REFUSED, output
    code, output = linked.run(
        runner, "hold", "release", "--yes", "--by", "ada", "--reason", "HR confirmed"
    )
    assert code == ExitCode.OK, output
    assert "2 people re-planned, 2 acted on" in output
    assert [linked.account_status(f"{name}@{DOMAIN}") for name in leavers] == ["inactive"] * 3
    _, journal = linked.run(runner, "journal", "list", "--format", "jsonl")
    assert "released by ada: HR confirmed" in journal
    code, output = linked.run(runner, "hold", "release", "--yes", "--reason", "again")
    assert code == ExitCode.REFUSED, output
    assert "no hold is active" in output


def test_a_release_while_a_daemon_leads_is_recorded_and_left_to_the_daemon(
    linked: World,  # noqa: F811 - the fixture
    runner: CliRunner,
) -> None:
    """Only the leader writes: the command records the release; the daemon re-plans."""
    _budget_of_one(linked)
    leavers = [person(n) for n in (6, 7, 8)]
    for name in leavers:
        linked.disable(name)
    code, output = linked.run(runner, "apply", "--yes")
    assert code == ExitCode.BLOCKED, output
    store = open_store(linked.store)
    try:
        assert store.acquire_lease("daemon", "daemon-1", timedelta(hours=1), datetime.now(UTC))
        code, output = linked.run(
            runner, "hold", "release", "--yes", "--by", "ada", "--reason", "HR confirmed"
        )
        assert code == ExitCode.OK, output
        assert "A running daemon leads" in output
        statuses = [linked.account_status(f"{name}@{DOMAIN}") for name in leavers]
        assert sorted(statuses) == ["active", "active", "inactive"]  # nothing sent by the CLI
        assert store.active_hold("deprovisioning") is None  # but the release is recorded
        code, output = linked.run(runner, "cutoff", "now", f"{person(9)}@{DOMAIN}",
                                  "--reason", "laptop stolen", "--yes", "--wait", "0")  # fmt: skip
        # A cut-off acts under the lease too: handed to the daemon, not sent by the CLI.
        assert code == ExitCode.INCOMPLETE, output
        assert "handed to it" in output
        assert "still queued" in output
        assert linked.account_status(f"{person(9)}@{DOMAIN}") == "active"
    finally:
        store.release_lease("daemon", "daemon-1")
        store.close()
