"""`offboard hold show|release --category`: a provisioning hold beside the deprovisioning one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from offboard.cli.demo import DOMAIN, person
from offboard.cli.exit_codes import ExitCode
from offboard.core.budget import WindowLimit
from offboard.core.holds import BudgetRequest, Waiting
from offboard.store import open_store
from tests.cli.test_run_commands import World, linked, world  # noqa: F401 - fixtures

CREATES = "provisioning-creates"


def _hold_creates(chosen: World, people: int) -> None:
    """A full creates window (a budget of 0 an hour), as a provisioning pass would put it."""
    now = datetime.now(UTC)
    limit = WindowLimit("hour", timedelta(hours=1), 0, "0 actions")
    store = open_store(chosen.store)
    try:
        for n in range(people):
            key = f"scim_create_user:joiner-{n}:scim-user:joiner-{n}"
            waiting = Waiting(key, "scim_create_user", f"joiner-{n}", f"scim-user:joiner-{n}",
                              f"joiner-{n}@{DOMAIN}", now)  # fmt: skip
            request = BudgetRequest(CREATES, waiting, "run-1", now, (limit,))
            assert not store.reserve_budget(request).granted
    finally:
        store.close()


def test_hold_show_lists_a_provisioning_hold_and_release_takes_its_category(
    linked: World,  # noqa: F811 - the fixture
    runner: CliRunner,
) -> None:
    _hold_creates(linked, 3)
    code, output = linked.run(runner, "hold", "show")
    assert code == ExitCode.BLOCKED, output
    assert "no hold: deprovisioning goes on" in output
    assert "HOLD #1 on provisioning-creates" in output
    assert "put by provisioning-budget" in output
    assert "3 provisioning-creates actions waiting" in output
    assert "--category provisioning-creates" in output
    assert f"joiner-2@{DOMAIN}" in output

    # Deprovisioning acts while provisioning creates are held.
    linked.disable(person(3))
    code, output = linked.run(runner, "apply", "--yes")
    assert code == ExitCode.OK, output
    assert linked.account_status(f"{person(3)}@{DOMAIN}") == "inactive"

    code, output = linked.run(runner, "hold", "release", "--yes", "--reason", "no hold here")
    assert code == ExitCode.REFUSED, output  # the default is deprovisioning: none is active
    code, output = linked.run(
        runner, "hold", "release", "--category", "nonsense", "--yes", "--reason", "x"
    )
    assert code == ExitCode.USAGE, output
    assert "provisioning-membership-removals" in output
    code, output = linked.run(
        runner, "hold", "release", "--category", CREATES, "--yes", "--by", "ada",
        "--reason", "a new department",
    )  # fmt: skip
    assert code == ExitCode.OK, output
    assert "provisioning-creates hold #1 released by ada; 3 waiting go on" in output
    code, output = linked.run(runner, "hold", "show")
    assert code == ExitCode.OK, output
    assert "HOLD" not in output
    _, journal = linked.run(runner, "journal", "list", "--format", "jsonl")
    assert "provisioning-creates hold #1 released by ada: a new department" in journal
    code, output = linked.run(
        runner, "hold", "release", "--category", CREATES, "--yes", "--reason", "again"
    )
    assert code == ExitCode.REFUSED, output
    assert "no provisioning-creates hold is active" in output
