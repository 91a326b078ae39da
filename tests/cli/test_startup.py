"""`offboard --help` imports no command; `--version`; shell completion; the listed help."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from offboard.cli.exit_codes import ExitCode
from offboard.cli.lazy import COMMANDS, load_command
from offboard.cli.main import app

HEAVY = ("sqlalchemy", "httpx", "pydantic", "structlog", "rich", "offboard.cli.plan")


def test_help_imports_no_command_and_nothing_heavy() -> None:
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['offboard', '--help']\n"
        "try:\n    runpy.run_module('offboard', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stderr.strip().splitlines()[-1] == "[]", done.stderr
    assert "cutoff" in done.stdout


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_listed_help_is_the_commands_own(name: str) -> None:
    command = load_command(name)
    assert command is not None
    assert command.get_short_help_str(limit=200) == COMMANDS[name].short_help


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == ExitCode.OK
    assert result.output.startswith("offboard ")


def test_shell_completion_script_and_completions() -> None:
    script = subprocess.run(
        [sys.executable, "-m", "offboard", "--show-completion", "bash"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert script.returncode == 0, script.stderr
    assert "complete" in script.stdout
    env = {"_OFFBOARD_COMPLETE": "complete_bash", "COMP_WORDS": "offboard cu", "COMP_CWORD": "1"}
    import os

    done = subprocess.run(
        [sys.executable, "-m", "offboard"], capture_output=True, text=True,
        env={**os.environ, **env}, check=False,
    )  # fmt: skip
    assert "cutoff" in done.stdout


def test_every_lazy_command_is_reachable() -> None:
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    assert set(COMMANDS) <= set(group.list_commands(None))  # type: ignore[arg-type]


def test_an_eagerly_registered_command_is_listed_and_runs(runner: CliRunner) -> None:
    from offboard.cli.lazy import LazyGroup

    root = typer.Typer(cls=LazyGroup, rich_markup_mode=None)

    @root.callback()
    def group() -> None:
        """A root group, as offboard's."""

    @root.command("hello")
    def hello() -> None:
        """Say hello (registered the eager way)."""
        typer.echo("hello")

    listed = runner.invoke(root, ["--help"])
    assert "Say hello (registered the eager way)." in listed.output
    assert "cutoff" in listed.output
    assert runner.invoke(root, ["hello"]).output == "hello\n"
