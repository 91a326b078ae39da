"""The root command group: every failure becomes one line and an exit code, never a traceback.

It imports nothing heavy itself (``explain`` and the console come on failure only), so that
`offboard --help` starts fast.
"""

from __future__ import annotations

from typing import Any

import typer

# Typer vendors its own click; subclassing its group is the documented way to customise it.
from typer._click import Context as ClickContext
from typer._click import exceptions as click_exceptions
from typer.core import TyperGroup

from offboard.cli.exit_codes import ExitCode


class _UsageError(click_exceptions.UsageError):
    # click's own code 2 would read as "changes planned".
    exit_code = ExitCode.USAGE


def _usage(exc: click_exceptions.UsageError) -> _UsageError:
    # format_message, not message: a missing option's message is built there ("Missing
    # option '--reason'"), and .message alone is empty.
    # typer checks a choice with pydantic, whose "Value error, " prefix tells a user nothing.
    message = exc.format_message().replace(": Value error, ", ": ")
    return _UsageError(message + _global_option_hint(exc), exc.ctx)


GLOBAL_OPTIONS = frozenset(
    {"--config", "-c", "--log-level", "--log-format", "--debug", "--version"}
)
"""The root's options: after a command name click knows them no more."""


def _global_option_hint(exc: click_exceptions.UsageError) -> str:
    """Where a global option goes, when it was given after the command: `offboard plan
    --config x.toml` is the natural first try, and "No such option" alone reads as a bug."""
    option = getattr(exc, "option_name", None)
    if not isinstance(exc, click_exceptions.NoSuchOption) or option not in GLOBAL_OPTIONS:
        return ""
    command = exc.ctx.command_path.partition(" ")[2] if exc.ctx else ""
    return (
        f". {option} is a global option: put it before the command, as in "
        f"`offboard {option} ... {command or 'COMMAND'}`"
    )


class OffboardGroup(TyperGroup):
    """The root command: maps exceptions to one line and an exit code (see ExitCode)."""

    debug = False

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: ClickContext | None = None,
        **extra: Any,
    ) -> ClickContext:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except _UsageError:
            raise
        except click_exceptions.UsageError as exc:
            raise _usage(exc) from None

    def invoke(self, ctx: ClickContext) -> Any:
        try:
            return super().invoke(ctx)
        except _UsageError:
            raise
        except click_exceptions.UsageError as exc:
            raise _usage(exc) from None
        except (typer.Exit, typer.Abort, click_exceptions.ClickException):
            raise
        except BrokenPipeError:
            # Whoever read the output stopped (`offboard plan | head -1`): end quietly, in
            # every format alike, with the shell's code for a process its pipe closed.
            _detach_stdout()
            raise typer.Exit(ExitCode.OUTPUT_CLOSED) from None
        except KeyboardInterrupt:
            from offboard.cli.errors import stderr

            stderr.print("interrupted: journaled work is completed by the next run")
            raise typer.Exit(ExitCode.INTERRUPTED) from None
        except Exception as exc:
            if OffboardGroup.debug:
                raise
            from offboard.cli.errors import explain, stderr

            message, code = explain(exc)
            stderr.print(message, markup=False)
            raise typer.Exit(code) from None


def _detach_stdout() -> None:
    """Point stdout at /dev/null, so that the flush at exit does not fail a second time."""
    import os
    import sys

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # not a real file (a test runner's buffer): nothing to do
        pass
