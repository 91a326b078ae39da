"""The last net under the listeners' apps: an unexpected error is a short 500, logged once.

Without it an exception in a route (the store unreachable while ``/licences`` reads it, say)
reached uvicorn, which answered 500 and wrote a multi-line traceback outside the JSON log,
ending with the driver's message: hosts, SQL, parameters. Here the client gets a fixed
message and the log one structured line with the error's type, where it was raised in our
code, and the path.
"""

from __future__ import annotations

import sys
import sysconfig
import traceback
from pathlib import Path

import structlog
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from offboard.service.outages import describe

log = structlog.get_logger(__name__)

ANSWER = "internal error; the daemon's log says more (event 'request failed')"
_LIBRARIES = (sysconfig.get_paths()["purelib"], sysconfig.get_paths()["stdlib"], sys.prefix)
_PACKAGE = str(Path(__file__).resolve().parents[1])


class ContainFailures:
    """Wrap an ASGI app; exceptions from HTTP requests are answered and logged here."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self._app(scope, receive, sending)
        except Exception as error:
            log.error(
                "request failed",
                method=scope.get("method"),
                path=scope.get("path"),
                error=describe(error),
                where=_where(error),
            )
            if not started:  # else the client sees the response end early, as it did
                await JSONResponse({"error": ANSWER}, status_code=500)(scope, receive, send)


def _where(error: BaseException) -> str:
    """The deepest frame in offboard's code (this net aside), else outside the libraries,
    else the deepest one: the line a developer looks at first."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename != __file__]
    ours = [f for f in frames if f.filename.startswith(_PACKAGE)]
    outside = [f for f in frames if not f.filename.startswith(_LIBRARIES)]
    chosen = ours or outside or frames
    return f"{chosen[-1].filename}:{chosen[-1].lineno}" if chosen else "unknown"
