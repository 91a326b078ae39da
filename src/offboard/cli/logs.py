"""structlog setup for every command: JSON (or console) lines on stderr, run id bound."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

from offboard.cli import lean

lean.skip_httpx_cli()  # before any module imports httpx or structlog: see offboard.cli.lean
lean.import_structlog()
import structlog  # noqa: E402  (imported by the line above: this only names it)

_SECRET_WORDS = ("secret", "password", "token", "api_key", "authorization")
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}


def _redact(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Last line of defence: any field named like a secret is masked, whatever its value."""
    for field in list(event):
        if any(word in field.lower() for word in _SECRET_WORDS) and field != "event":
            event[field] = "**********"
    return event


def configure_logging(level: str = "info", fmt: str = "json") -> None:
    """Route structlog (and stdlib logging) to stderr at ``level``, as JSON or for people."""
    numeric = _LEVELS.get(level, logging.ERROR)
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact,
        structlog.processors.format_exc_info,
    ]
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    _route_stdlib(shared, renderer, numeric)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to ``sys.stderr`` as it is when a line is written, not as it was at set-up (a
    test runner swaps it; a line must never go to a stream closed since)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def _route_stdlib(shared: list[Any], renderer: Any, numeric: int) -> None:
    """Libraries that log through ``logging`` (uvicorn, asyncio) write the same lines as
    ours: before, uvicorn's own handler put plain ``WARNING:  ...`` lines and tracebacks into
    the JSON stream. Warnings and up only: httpx logs every request URL at INFO, and a URL
    can hold an email (a search by email)."""
    handler = _StderrHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder({"suppressed_since_last"})],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "offboard", False)]:
        root.removeHandler(old)
    handler.offboard = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(max(numeric, logging.WARNING))


def bind_invocation(invocation_id: str, command: str) -> None:
    """Every later log line of this command carries its invocation id and name."""
    structlog.contextvars.bind_contextvars(invocation_id=invocation_id, command=command)


def bind_run(run_id: str) -> None:
    """Log lines from here on carry the store's run id (the journal's key)."""
    structlog.contextvars.bind_contextvars(run_id=run_id)
