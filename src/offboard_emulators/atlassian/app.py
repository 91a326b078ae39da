"""The ASGI app factory: the three Atlassian APIs, the control surface and middleware."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from offboard_emulators.atlassian import (
    control,
    errors,
    org_api,
    org_v2_api,
    scim_api,
    usage_api,
    user_management_api,
)
from offboard_emulators.atlassian.state import AtlassianState
from offboard_emulators.common.faults import FaultInjector
from offboard_emulators.common.middleware import EmulatorMiddleware
from offboard_emulators.common.ratelimit import RateLimiter
from offboard_emulators.common.recorder import RequestLog


@dataclass(slots=True)
class EmulatorParts:
    """What an app is made of; kept on ``app.state.emulator`` for tests and tools."""

    state: AtlassianState
    log: RequestLog = field(default_factory=RequestLog)
    limiter: RateLimiter = field(default_factory=RateLimiter)
    faults: FaultInjector = field(default_factory=FaultInjector)


def create_app(
    state: AtlassianState | None = None, parts: EmulatorParts | None = None
) -> Starlette:
    """An emulator of ``api.atlassian.com`` serving ``state`` (a fresh empty one if none)."""
    parts = parts or EmulatorParts(state or AtlassianState())
    tenant = parts.state

    def identify_key(headers: Headers, path: str) -> str | None:
        return tenant.key_id_for(headers.get("authorization"))

    async def not_found(request: Request, exc: Exception) -> Response:
        return errors.render_error(request.url.path, 404, "Unknown resource")

    routes = [
        *control.routes(tenant, parts.log, parts.limiter, parts.faults),
        *org_api.routes(tenant),
        *org_v2_api.routes(tenant),
        *user_management_api.routes(tenant),
        *usage_api.routes(tenant),
        *scim_api.routes(tenant),
    ]

    def bucket_of(scope: Scope) -> str:
        """Atlassian limits per API path: one bucket per route template, not per account."""
        for route in routes:
            if route.matches(scope)[0] is Match.FULL and isinstance(route, Route):
                return route.path
        return str(scope.get("path", ""))

    middleware = [
        Middleware(
            EmulatorMiddleware,
            log=parts.log,
            limiter=parts.limiter,
            faults=parts.faults,
            identify_key=identify_key,
            render_error=errors.render_error,
            bucket_of=bucket_of,
        )
    ]
    app = Starlette(routes=routes, middleware=middleware, exception_handlers={404: not_found})
    app.state.emulator = parts
    return app
