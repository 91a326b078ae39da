"""`offboard cutoff now` held back by the deprovisioning budget or a hold: the operator is
told nothing was sent and how to go on, not left with a table that says "held"."""

from __future__ import annotations

from typer.testing import CliRunner

from offboard.cli.demo import DOMAIN, person
from offboard.cli.exit_codes import ExitCode
from tests.cli.test_run_commands import World, linked, world

__all__ = ["linked", "world"]  # fixtures used below


def test_a_held_cutoff_says_nothing_was_sent_and_the_way_on(
    linked: World, runner: CliRunner
) -> None:
    text = linked.config.read_text(encoding="utf-8")
    linked.config.write_text(text + "\n[policy.budget]\nhour_max_actions = 1\n", encoding="utf-8")
    for n in (3, 4):
        linked.disable(person(n))
    code, output = linked.run(runner, "apply", "--yes")
    assert code == ExitCode.BLOCKED, output  # a hold is now active
    email = f"{person(10)}@{DOMAIN}"
    cut = ("cutoff", "now", email, "--reason", "stolen laptop", "--yes")
    code, output = linked.run(runner, *cut)
    assert code == ExitCode.BLOCKED, output
    assert linked.account_status(email) == "active"
    flat = " ".join(output.split())
    assert f"{email}: nothing was sent, held back" in flat, flat
    assert "--override-guard deprovisioning-budget" in flat
    assert "held back (deprovisioning-budget: a hold is active" in flat
    code, output = linked.run(runner, *cut, "--override-guard", "deprovisioning-budget")
    assert code == ExitCode.OK, output
    assert linked.account_status(email) == "inactive"
