"""A per-credential rate limit in front of the emulator, for load tests and benchmarks.

The emulator's own limiter buckets per key and route, as Atlassian does. Deactivating many
accounts touches a different path each time, so it never refuses such a run on its own;
this wrapper adds one bucket per credential, answering 429 with Atlassian's ProxyError body
and the ``X-RateLimit-*`` headers, so clients can be tested against a tight overall quota.

The emulator's control surface (``/_emulator``) is not an Atlassian API and passes unlimited;
``GET /_emulator/key-limit`` tells how many requests the wrapper refused, for a benchmark
in another process to count them beside the requests the emulator answered.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from offboard_emulators.common.middleware import CONTROL_PREFIX
from offboard_emulators.common.ratelimit import RateLimitConfig, RateLimiter

REFUSALS_PATH = f"{CONTROL_PREFIX}/key-limit"


class PerKeyLimit:
    """ASGI wrapper: one token bucket per credential; ``refused`` counts the 429s."""

    def __init__(self, app: ASGIApp, config: RateLimitConfig) -> None:
        self.app = app
        self.bucket = RateLimiter(config)
        self.refused = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == REFUSALS_PATH:
            await JSONResponse({"refused": self.refused})(scope, receive, send)
            return
        if scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        # The key's last characters tell credentials apart without keeping the secret.
        key = dict(scope["headers"]).get(b"authorization", b"").decode()[-6:]
        decision = self.bucket.take(key, "*")
        headers = decision.headers("second")
        if not decision.allowed:
            self.refused += 1
            refusal = JSONResponse({"code": 429, "message": "Rate limit exceeded"}, 429, headers)
            await refusal(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
                message["headers"] = [*message["headers"], *extra]
            await send(message)

        await self.app(scope, receive, with_headers)
