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
from tests.cli.probing import ORDINARY_EXIT

HEAVY = ("sqlalchemy", "httpx", "pydantic", "structlog", "rich", "offboard.cli.plan")


def test_help_imports_no_command_and_nothing_heavy() -> None:
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['offboard', '--help']\n"
        f"{ORDINARY_EXIT}try:\n    runpy.run_module('offboard', run_name='__main__')\n"
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


# A command's `--help` needs its options, not what it runs with (issue 18: start-up).
NOT_FOR_HELP = (
    "sqlalchemy",
    "httpx",
    "offboard.store",
    "offboard.adapters",
    "offboard.server",
    "offboard_emulators",
)


def _every_help_invocation() -> list[list[str]]:
    """Each command of ``COMMANDS``, and each sub-command of a group, as `--help` argv."""
    argvs: list[list[str]] = []
    for name in COMMANDS:
        command = load_command(name)
        argvs.append([name, "--help"])
        if isinstance(command, typer.core.TyperGroup):
            argvs += [[name, sub, "--help"] for sub in command.list_commands(None)]  # type: ignore[arg-type]
    return argvs


def test_every_commands_help_imports_nothing_it_runs_with() -> None:
    """Each `--help` in a fresh interpreter (run side by side): none of ``NOT_FOR_HELP``."""
    argvs = _every_help_invocation()
    probes = {
        " ".join(argv): subprocess.Popen(
            [sys.executable, "-c", _help_probe(argv)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv in argvs
    }
    imported = {}
    for shown, probe in probes.items():
        _, err = probe.communicate(timeout=120)
        last = err.strip().splitlines()[-1] if err.strip() else ""
        assert last.startswith("IMPORTED "), f"{shown}: {err}"
        _, code, heavy = [*last.split(" "), ""][:3]
        if code != "0" or heavy:
            imported[shown] = f"exit {code}, imported {heavy}"
    assert len(argvs) > len(COMMANDS)  # the groups' sub-commands were probed too
    assert imported == {}


def _help_probe(argv: list[str]) -> str:
    return (
        "import runpy, sys\n"
        f"sys.argv = ['offboard', *{argv!r}]\n"
        "code = 0\n"
        f"{ORDINARY_EXIT}try:\n    runpy.run_module('offboard', run_name='__main__')\n"
        "except SystemExit as exit:\n    code = exit.code or 0\n"
        f"heavy = sorted({{m.split('.')[0] if m.startswith(('sqlalchemy', 'httpx')) else m "
        f"for m, mod in sys.modules.items() if mod and m.startswith({NOT_FOR_HELP!r})}})\n"
        "print('IMPORTED', code, ','.join(heavy), file=sys.stderr)\n"
    )


def test_links_state_choices_are_the_services_link_states() -> None:
    """`links list --state` declares its choices in the CLI, to keep `--help` light."""
    from offboard.cli.links import StateChoice
    from offboard.service.links_admin import LinkState

    assert [c.value for c in StateChoice] == [s.value for s in LinkState]


def test_a_command_paces_the_garbage_collector_for_its_snapshots() -> None:
    """Every command runs with the collector's slower pace (``offboard.cli.collector``):
    at the default one, a run of 50,000 people spent a tenth of its CPU re-walking them."""
    probe = (
        "import gc, sys, runpy\n"
        "sys.argv = ['offboard', '--version']\n"
        f"{ORDINARY_EXIT}try:\n    runpy.run_module('offboard', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print(gc.get_threshold(), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stderr.strip().splitlines()[-1] == "(50000, 20, 20)", done.stderr
