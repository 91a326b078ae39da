"""The HTTP surface of the daemon (Starlette): webhook, health, readiness, metrics, status."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import timedelta

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from offboard.server.metrics import Metrics
from offboard.server.page import render_status_page
from offboard.server.webhook import WebhookReceiver
from offboard.service.status import DaemonStatus


def create_app(
    status: DaemonStatus,
    metrics: Metrics,
    webhook: WebhookReceiver,
    *,
    readiness_limits: Mapping[str, timedelta],
) -> Starlette:
    """The app ``offboard run`` serves; ``readiness_limits`` as in ``not_ready_reasons``."""

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "alive"})

    async def readyz(request: Request) -> Response:
        reasons = status.not_ready_reasons(readiness_limits)
        if reasons:
            return JSONResponse({"status": "not ready", "reasons": reasons}, status_code=503)
        return JSONResponse({"status": "ready"})

    async def metrics_endpoint(request: Request) -> Response:
        await asyncio.to_thread(status.refresh_guards)  # the hold as the store has it now
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def index(request: Request) -> Response:
        await asyncio.to_thread(status.refresh_guards)
        page = render_status_page(status, status.not_ready_reasons(readiness_limits))
        return HTMLResponse(page)

    routes = [
        Route("/", index, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        Route("/webhooks/keycloak", webhook.handle, methods=["POST"]),
    ]
    return Starlette(routes=routes)
