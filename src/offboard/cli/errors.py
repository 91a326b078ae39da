"""Turning failures into one clear line and an exit code, never a traceback."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from offboard.cli.exit_codes import ExitCode
from offboard.ports import AuthenticationError, OffboardError

if TYPE_CHECKING:
    import httpx
    from rich.console import Console


class _Stderr:
    """rich's console on stderr, made on first use: `offboard --help` never needs it."""

    def __init__(self) -> None:
        self._console: Console | None = None

    def print(self, *objects: Any, **options: Any) -> None:
        if self._console is None:
            from rich.console import Console

            # No markup or emoji codes: messages quote user and vendor text (":x:", "[/]").
            self._console = Console(
                stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False
            )
        self._console.print(*objects, **options)


stderr = _Stderr()


class RefusedError(OffboardError):
    """offboard declines to act (stale or tampered plan, no confirmation): exit 5."""


class FailedError(OffboardError):
    """A command could not do its job for a reason already explained: exit 1."""


class UnreachableError(OffboardError):
    """A vendor could not be read at all; the message starts with what and where: exit 7."""


def explain(exc: BaseException) -> tuple[str, ExitCode]:
    """The one line to print and the exit code for an error that reached the command line."""
    # Imported on failure only: the settings and store packages are slow to import.
    from offboard.settings import ConfigError
    from offboard.store.errors import StoreError

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
