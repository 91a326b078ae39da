"""ASGI middleware: record every vendor request and inject the generic faults (5xx, latency).

Unlike the common EmulatorMiddleware it adds no rate-limit headers: Keycloak sends none.
The recorded credential id is the client id of a token request or "bearer", never a secret.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from offboard_emulators.common.middleware import CONTROL_PREFIX
from offboard_emulators.common.recorder import RecordedRequest
from offboard_emulators.keycloak.emulator import EmulatorState
from offboard_emulators.keycloak.errors import KeycloakError


class RecordingMiddleware:
    """Wraps the Keycloak app; the control surface passes straight through."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        state: EmulatorState,
        render_error: Callable[[KeycloakError], Response],
    ) -> None:
        self.app = app
        self.state = state
        self.render_error = render_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        faults = self.state.faults
        latency = faults.latency_seconds()
        if latency > 0:
            await asyncio.sleep(latency)
        status_seen = 500

        async def remember_status(message: Message) -> None:
            nonlocal status_seen
            if message["type"] == "http.response.start":
                status_seen = int(message["status"])
            await send(message)

        injected = faults.failure_for(method, path)
        if injected is not None:
            body = {"error": "unknown_error", "error_description": "Injected fault"}
            response = self.render_error(KeycloakError(injected, body))
            await response(scope, receive, remember_status)
        else:
            await self.app(scope, receive, remember_status)
        query = scope.get("query_string", b"").decode("latin-1")
        key_id = "bearer" if _has_bearer(scope) else None
        stamp = datetime.now(UTC).isoformat()
        self.state.requests.append(RecordedRequest(method, path, query, status_seen, key_id, stamp))


def _has_bearer(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            return bool(value.startswith(b"Bearer "))
    return False
