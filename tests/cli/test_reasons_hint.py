"""A narrow plan table says where the full reasons are: an option the command really takes."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from offboard.cli.demo import DOMAIN, person
from offboard.cli.exit_codes import ExitCode
from tests.cli.test_run_commands import World, linked, world

__all__ = ["linked", "world"]  # fixtures used below
_HINT = re.compile(r"full reasons: (.+?), or a wider terminal")


@pytest.mark.parametrize("command", [("plan",), ("licences", "plan")])
def test_the_hint_names_an_option_of_the_same_command(
    linked: World, runner: CliRunner, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    linked.disable(person(22))
    code, output = linked.run(runner, *command)
    assert code != ExitCode.INTERNAL, output
    hint = _HINT.search(" ".join(output.split()))
    assert hint is not None, output
    wanted = hint.group(1).split()  # e.g. ["--format", "markdown"] or ["--json"]
    code, output = linked.run(runner, *command, *wanted)
    assert "No such option" not in output
    assert code in (ExitCode.OK, ExitCode.CHANGES), output


def test_a_command_without_such_an_option_names_none(
    linked: World, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    linked.disable(person(23))
    code, output = linked.run(runner, "deactivate", f"{person(23)}@{DOMAIN}", "--yes")
    assert code == ExitCode.OK, output
    words = " ".join(output.split())
    assert "(full reasons: a wider terminal)" in words
    assert "--format" not in words
