"""The reference docs cover every command and every exit code (sqlite-utils style).

Checked here: docs/reference/cli.md (every command, its current --help; regenerate with
scripts/cli-reference) and docs/reference/exit-codes.md. docs/reference/configuration.md is
checked by tests/cli/test_config_cmd.py::test_config_reference_is_up_to_date (regenerate with
`offboard config reference > docs/reference/configuration.md`).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer import _click as click

from offboard.cli.exit_codes import ExitCode
from offboard.cli.main import app

DOCS = Path(__file__).resolve().parents[2] / "docs" / "reference"


def _commands(group: object, prefix: str = "") -> list[tuple[str, object]]:
    """Every command and subcommand; the root group loads its commands on demand."""
    found: list[tuple[str, object]] = []
    if not hasattr(group, "list_commands"):
        return found
    context = click.Context(group)  # type: ignore[arg-type]
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        full = f"{prefix}{name}"
        found.append((full, command))
        found.extend(_commands(command, f"{full} "))
    return found


COMMANDS = _commands(typer.main.get_command(app))


def test_there_are_commands_to_check() -> None:
    names = [name for name, _ in COMMANDS]
    assert "config init" in names
    assert "journal list" in names


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_command_has_help_and_is_documented(name: str, command: object) -> None:
    assert (getattr(command, "help", None) or "").strip(), f"`offboard {name}` has no help text"
    document = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert f"offboard {name}" in document, f"docs/reference/cli.md does not describe {name}"


@pytest.mark.parametrize("code", list(ExitCode), ids=[c.name for c in ExitCode])
def test_every_exit_code_is_documented(code: ExitCode) -> None:
    document = (DOCS / "exit-codes.md").read_text(encoding="utf-8")
    assert f"| {code.value} | `{code.name}` |" in document


@pytest.mark.locked  # typer and rich lay the help out differently from release to release
def test_the_help_blocks_in_the_reference_are_current() -> None:
    """docs/reference/cli.md shows each command's real --help (scripts/cli-reference)."""
    script = DOCS.parents[1] / "scripts" / "cli-reference"
    result = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
