"""The `offboard` command line: global options, command groups, exit codes.

Every command is a thin layer of wiring: the work happens in the service, executor, store
and adapters. Errors reach the root group, which prints one line and exits with the code
from :class:`offboard.cli.exit_codes.ExitCode`.
"""

from __future__ import annotations

import sys
import uuid
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from offboard.cli.group import OffboardGroup
from offboard.cli.lazy import LazyGroup

HELP = """\
Deactivate the Atlassian Cloud accounts of people who left Keycloak.

offboard compares Keycloak with Atlassian, makes a plan (each action with its reason and
rule), and applies it under guards, journaling every step.

Start here:

\b
  offboard demo            the whole job against bundled emulators, no setup
  offboard config init     write a commented offboard.toml
  offboard config check    probe Keycloak, Atlassian and the store
  offboard plan            what would change, and why (exit 0 none, 2 some, 3 blocked)
  offboard apply           carry it out, after confirmation
  offboard journal list    what happened
  offboard hold show       what holds deprovisioning back, and who waits

Exit codes: 0 ok, 1 error, 2 changes planned, 3 blocked by a guard, 4 configuration error,
5 refused, 6 some actions failed, 7 vendor unreachable, 8 store unusable, 64 usage error,
70 internal error, 130 interrupted, 141 output closed (| head).
"""

app = typer.Typer(
    cls=LazyGroup,
    help=HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


class LogLevel(StrEnum):
    """The values logging.level accepts. A choice, not free text: `--log-level bogus` ran the
    command with logs at another level, without a word."""

    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class LogFormat(StrEnum):
    """The values logging.format accepts."""

    JSON = "json"
    CONSOLE = "console"


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("offboard")
        except PackageNotFoundError:
            number = "unknown (not installed)"
        typer.echo(f"offboard {number}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config_file: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Configuration file (default: $OFFBOARD_CONFIG, else ./offboard.toml).",
            envvar="OFFBOARD_CONFIG",
            show_envvar=False,
            # The settings loader says why a file cannot be read, with exit 4 like a missing
            # one; click's own check answered 64 (a usage error) for an unreadable file.
            readable=False,
        ),
    ] = None,
    log_level: Annotated[
        LogLevel | None,
        typer.Option(help="Log level (overrides logging.level).", case_sensitive=False),
    ] = None,
    log_format: Annotated[
        LogFormat | None,
        typer.Option(help="Log format (overrides logging.format).", case_sensitive=False),
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of unexpected errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Global options; they go before the command name."""
    # Imported here, not at the top: `offboard --help` must not pay for logging or settings.
    from offboard.cli.state import CliState

    del version  # handled by its eager callback
    OffboardGroup.debug = debug
    ctx.obj = CliState(
        config=config_file,
        log_level=log_level,
        log_format=log_format,
        long_running=ctx.invoked_subcommand == "run",
    )
    if _asks_for_help(ctx):
        return  # `offboard CMD --help` prints and exits: no logging to set up (0.2 s)
    from offboard.cli.logs import bind_invocation, configure_logging

    configure_logging(log_level or "error", log_format or "json")
    bind_invocation(uuid.uuid4().hex, ctx.invoked_subcommand or "")


def _asks_for_help(ctx: typer.Context) -> bool:
    """True when the command line asks a command for its help (the group's context holds
    no arguments by the time its callback runs, so the process's own are read)."""
    del ctx
    return any(arg in ("--help", "-h") for arg in sys.argv[1:])


def main() -> None:
    """Console-script entry point."""
    from offboard.cli import collector, exits, lean

    collector.pace_for_snapshots()
    lean.skip_pydantic_plugins()  # before typer's options build the first validator
    try:
        app(prog_name="offboard")
    except SystemExit as leaving:
        exits.leave_now(leaving.code)
