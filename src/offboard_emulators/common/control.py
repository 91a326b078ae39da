"""Control-surface routes every emulator shares: recorded requests, faults and limits."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from offboard_emulators.common.faults import FaultConfig, FaultInjector
from offboard_emulators.common.ratelimit import RateLimitConfig, RateLimiter
from offboard_emulators.common.recorder import RequestLog


class ControlError(ValueError):
    """A control request the emulator cannot honour; answered with 400."""


async def read_json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object (an empty body counts as ``{}``)."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ControlError(f"body is not JSON: {error.msg}") from error
    if not isinstance(data, dict):
        raise ControlError("body must be a JSON object")
    return data


def control_error(message: str, status: int = 400) -> JSONResponse:
    """The control surface's own (non-vendor) error body."""
    return JSONResponse({"error": message}, status_code=status)


def shared_control_routes(
    prefix: str, log: RequestLog, limiter: RateLimiter, faults: FaultInjector
) -> list[Route]:
    """Routes for ``{prefix}/requests`` (GET, DELETE), ``/faults`` and ``/limits`` (GET, PUT)."""

    async def requests_endpoint(request: Request) -> Response:
        if request.method == "DELETE":
            log.clear()
            return Response(status_code=204)
        return JSONResponse({"requests": [entry.to_json() for entry in log.entries()]})

    async def faults_endpoint(request: Request) -> Response:
        if request.method == "PUT":
            try:
                faults.configure(FaultConfig.from_json(await read_json_object(request)))
            except (TypeError, ValueError) as error:
                return control_error(str(error))
        return JSONResponse(faults.config.to_json())

    async def limits_endpoint(request: Request) -> Response:
        if request.method == "PUT":
            try:
                limiter.configure(RateLimitConfig.from_json(await read_json_object(request)))
            except (TypeError, ValueError) as error:
                return control_error(str(error))
        return JSONResponse(limiter.config.to_json())

    return [
        Route(f"{prefix}/requests", requests_endpoint, methods=["GET", "DELETE"]),
        Route(f"{prefix}/faults", faults_endpoint, methods=["GET", "PUT"]),
        Route(f"{prefix}/limits", limits_endpoint, methods=["GET", "PUT"]),
    ]
