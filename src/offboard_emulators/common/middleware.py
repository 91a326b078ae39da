"""ASGI middleware that records requests, injects faults and enforces rate limits.

It is vendor-neutral: the emulator tells it how to name the credential of a request
(``identify_key``) and how its API words an error (``render_error``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from offboard_emulators.common.faults import FaultInjector
from offboard_emulators.common.ratelimit import RateLimiter
from offboard_emulators.common.recorder import RecordedRequest, RequestLog

KeyIdentifier = Callable[[Headers, str], str | None]
"""Maps request headers and path to a credential id (never the secret), or ``None``."""

ErrorRenderer = Callable[[str, int, str], Response]
"""Builds the vendor's error response for (path, status, message)."""

BucketNamer = Callable[[Scope], str]
"""Names the rate-limit bucket of a request (e.g. its route template); default: the path."""

CONTROL_PREFIX = "/_emulator"


class EmulatorMiddleware:
    """Wraps a vendor app; requests under the control prefix pass straight through."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        log: RequestLog,
        limiter: RateLimiter,
        faults: FaultInjector,
        identify_key: KeyIdentifier,
        render_error: ErrorRenderer,
        control_prefix: str = CONTROL_PREFIX,
        bucket_of: BucketNamer | None = None,
    ) -> None:
        self.app = app
        self.log = log
        self.limiter = limiter
        self.faults = faults
        self.identify_key = identify_key
        self.render_error = render_error
        self.control_prefix = control_prefix
        self.bucket_of = bucket_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(self.control_prefix):
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        key_id = self.identify_key(Headers(scope=scope), path)
        latency = self.faults.latency_seconds()
        if latency > 0:
            await asyncio.sleep(latency)
        bucket = self.bucket_of(scope) if self.bucket_of else path
        decision = self.limiter.take(key_id or "anonymous", bucket)
        extra = decision.headers(self.limiter.config.reset_precision).items()
        raw_extra = [(name.lower().encode(), value.encode()) for name, value in extra]
        status_seen = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status_seen
            if message["type"] == "http.response.start":
                status_seen = int(message["status"])
                message = {**message, "headers": [*message.get("headers", []), *raw_extra]}
            await send(message)

        injected = self.faults.failure_for(method, path)
        if not decision.allowed:
            response = self.render_error(path, 429, "Rate limit exceeded")
            await response(scope, receive, send_with_headers)
        elif injected is not None:
            response = self.render_error(path, injected, "Injected fault")
            await response(scope, receive, send_with_headers)
        else:
            await self.app(scope, receive, send_with_headers)
        query = scope.get("query_string", b"").decode("latin-1")
        stamp = datetime.now(UTC).isoformat()
        self.log.append(RecordedRequest(method, path, query, status_seen, key_id, stamp))
