"""Turning failures into one clear line and an exit code, never a traceback."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

# Typer vendors its own click; subclassing its group is the documented way to customise it.
from typer._click import Context as ClickContext
from typer._click import exceptions as click_exceptions
from typer.core import TyperGroup

from offboard.cli.exit_codes import ExitCode
from offboard.ports import AuthenticationError, OffboardError
from offboard.settings import ConfigError
from offboard.store.errors import StoreError

if TYPE_CHECKING:
    import httpx

stderr = Console(stderr=True, highlight=False, soft_wrap=True)


class RefusedError(OffboardError):
    """offboard declines to act (stale or tampered plan, no confirmation): exit 5."""


class FailedError(OffboardError):
    """A command could not do its job for a reason already explained: exit 1."""


class UnreachableError(OffboardError):
    """A vendor could not be read at all; the message starts with what and where: exit 7."""


def explain(exc: BaseException) -> tuple[str, ExitCode]:
    """The one line to print and the exit code for an error that reached the command line."""
    if isinstance(exc, ConfigError):
        return f"configuration error: {exc}", ExitCode.CONFIG
    if isinstance(exc, RefusedError):
        return f"refused: {exc}", ExitCode.REFUSED
    if isinstance(exc, StoreError):
        return f"store error: {exc}", ExitCode.STORE
    if isinstance(exc, AuthenticationError):
        return (
            f"credentials refused: {exc} (check the secret or key, or whether it expired; "
            "`offboard config check` tells which)",
            ExitCode.ERROR,
        )
    if isinstance(exc, UnreachableError):
        return f"unreachable: {exc}", ExitCode.UNREACHABLE
    if isinstance(exc, OffboardError):
        return f"error: {exc}", ExitCode.ERROR
    if type(exc).__module__.startswith("httpx"):
        return _explain_http(exc)
    if type(exc).__module__.startswith("sqlalchemy"):
        return (
            f"the state store failed: {type(exc).__name__}: {getattr(exc, 'orig', exc)} "
            "(check store.url/store.path and that the database is reachable)",
            ExitCode.STORE,
        )
    return (
        f"internal error: {type(exc).__name__}: {exc} (a bug: rerun with --debug and report "
        "the traceback)",
        ExitCode.INTERNAL,
    )


def _explain_http(exc: BaseException) -> tuple[str, ExitCode]:
    import httpx  # only when an HTTP error happened: `offboard --help` does not pay for it

    if isinstance(exc, httpx.TransportError):
        return (
            f"cannot reach {_host_of(exc)}: {str(exc) or type(exc).__name__} (check base_url, "
            "DNS, proxy and TLS, then `offboard config check`)",
            ExitCode.UNREACHABLE,
        )
    if isinstance(exc, httpx.HTTPError):
        return f"HTTP error talking to {_host_of(exc)}: {exc}", ExitCode.ERROR
    return f"internal error: {type(exc).__name__}: {exc}", ExitCode.INTERNAL


def _host_of(exc: httpx.HTTPError) -> str:
    try:
        return str(exc.request.url.copy_with(query=None, fragment=None))
    except RuntimeError:
        return "the server"


class _UsageError(click_exceptions.UsageError):
    # click's own code 2 would read as "changes planned".
    exit_code = ExitCode.USAGE


def _usage(exc: click_exceptions.UsageError) -> _UsageError:
    # format_message, not message: a missing option's message is built there ("Missing
    # option '--reason'"), and .message alone is empty.
    return _UsageError(exc.format_message(), exc.ctx)


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
        except KeyboardInterrupt:
            stderr.print("interrupted: journaled work is completed by the next run")
            raise typer.Exit(ExitCode.INTERRUPTED) from None
        except Exception as exc:
            if OffboardGroup.debug:
                raise
            message, code = explain(exc)
            stderr.print(message, markup=False)
            raise typer.Exit(code) from None
