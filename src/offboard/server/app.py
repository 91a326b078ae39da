"""The HTTP surface of the daemon (Starlette): webhook, health, readiness, metrics, status.

The probes mean what Kubernetes reads into them: ``/healthz`` (liveness) is true while the
process serves, ``/readyz`` (readiness) is true for a healthy replica, leader or standby, and
leadership is shown apart by ``/leaderz`` (200 only on the leader, for load balancers that
should send webhooks to it alone) and the ``offboard_leader`` metric.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime, timedelta

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from offboard.server.console import ConsoleBackend, console_routes
from offboard.server.failures import ContainFailures
from offboard.server.licence_page import (
    HISTORY_CHECKS,
    LicenceReader,
    licence_document,
    render_licence_page,
)
from offboard.server.login import ConsoleLogin, LoginGuard
from offboard.server.metrics import Metrics
from offboard.server.scrape_gauges import refresh
from offboard.server.webhook import WebhookReceiver
from offboard.service.outages import FailureStreak
from offboard.service.status import DaemonStatus

MAX_REASONS = 5
MAX_REASON_CHARS = 400


async def healthz(request: Request) -> Response:
    """Alive: the process answers (on both listeners)."""
    return JSONResponse({"status": "alive"})


def create_webhook_app(webhook: WebhookReceiver) -> Starlette:
    """The webhook listener's app: the endpoint Keycloak calls, and a liveness probe."""
    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/webhooks/keycloak", webhook.handle, methods=["POST"]),
    ]
    return Starlette(routes=routes, middleware=[Middleware(ContainFailures)])


def create_app(
    status: DaemonStatus,
    metrics: Metrics,
    webhook: WebhookReceiver | None = None,
    *,
    readiness_limits: Mapping[str, timedelta],
    licences: LicenceReader | None = None,
    console: ConsoleBackend | None = None,
    login: ConsoleLogin | None = None,
) -> Starlette:
    """The operations listener's app; ``readiness_limits`` as in ``not_ready_reasons``;
    ``licences`` reads the store's licence history (None: the store keeps none).

    Every path but the probes is behind ``login`` (server/login/guard.py); without one, only
    the probes answer.

    ``offboard run`` serves the webhook on its own listener (:func:`create_webhook_app`);
    ``webhook`` puts it here too, for in-process tests. ``console`` is what the console
    reads and acts through (default: the daemon's status only, no acts).
    """

    async def readyz(request: Request) -> Response:
        reasons = _capped(status.not_ready_reasons(readiness_limits))
        role = _role(status)
        warnings = status.warnings()
        extra = {"warnings": warnings} if warnings else {}
        if reasons:
            body = {"status": "not ready", "role": role, "reasons": reasons, **extra}
            return JSONResponse(body, status_code=503)
        return JSONResponse({"status": "ready", "role": role, **extra})

    async def leaderz(request: Request) -> Response:
        return JSONResponse({"role": _role(status)}, status_code=200 if status.leader else 503)

    guard_reads = FailureStreak(
        "metrics: the hold and budget read",
        "the store did not answer: the hold and budget gauges keep their last values, "
        "offboard_ready says whether the store is reached; check the store",
    )

    async def metrics_endpoint(request: Request) -> Response:
        try:
            await asyncio.to_thread(status.refresh_guards)  # the hold as the store has it now
        except Exception as error:  # a scrape must answer most when something is down
            guard_reads.failed(error)
        else:
            guard_reads.succeeded()
        refresh(status, metrics, readiness_limits)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def licence_history() -> list[tuple[datetime, dict[str, object]]]:
        return await asyncio.to_thread(licences, HISTORY_CHECKS) if licences else []

    async def licences_page(request: Request) -> Response:
        return HTMLResponse(render_licence_page(await licence_history()))

    async def licences_json(request: Request) -> Response:
        return JSONResponse(licence_document(await licence_history()))

    backend = console or ConsoleBackend(licences=licences)
    routes = [
        *console_routes(status, readiness_limits, backend),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/leaderz", leaderz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        Route("/licences", licences_page, methods=["GET"]),
        Route("/licences.json", licences_json, methods=["GET"]),
    ]
    if webhook is not None:
        routes.append(Route("/webhooks/keycloak", webhook.handle, methods=["POST"]))
    if login is not None:
        routes.extend(login.flow.routes())
    signed = frozenset({"/webhooks/keycloak"} if webhook is not None else ())  # own HMAC check
    keeper = login.sessions if login is not None else None
    recheck = login.flow.recheck if login is not None else None
    guard = Middleware(LoginGuard, keeper=keeper, also_open=signed, recheck=recheck)
    return Starlette(routes=routes, middleware=[Middleware(ContainFailures), guard])


def _capped(reasons: list[str]) -> list[str]:
    """A few short reasons and a count: /readyz stays small whatever went wrong."""
    shown = [r if len(r) <= MAX_REASON_CHARS else r[: MAX_REASON_CHARS - 1] + "…" for r in reasons]
    if len(shown) > MAX_REASONS:
        shown = [*shown[:MAX_REASONS], f"and {len(shown) - MAX_REASONS} more"]
    return shown


def _role(status: DaemonStatus) -> str:
    return "leader" if status.leader else "standby"
