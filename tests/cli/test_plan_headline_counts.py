"""The plan's headline counts in English (QA: "1 changes in Atlassian", "1 links to record")."""

from __future__ import annotations

from typer.testing import CliRunner

from offboard.cli.demo import person
from offboard.cli.exit_codes import ExitCode
from tests.cli.test_run_commands import World, linked, world

__all__ = ["linked", "world"]  # fixtures used below


def test_one_change_is_one_change(linked: World, runner: CliRunner) -> None:
    linked.disable(person(23))
    code, output = linked.run(runner, "plan")
    assert code == ExitCode.CHANGES, output
    words = " ".join(output.split())
    assert "1 change in Atlassian (1 deprovisioning), 0 links to record" in words
    assert "1 changes" not in words
