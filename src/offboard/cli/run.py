"""`offboard run`: the daemon and its HTTP surface, wired from the settings.

Register with ``offboard.cli.run.register(app)``. Everything here is wiring: the behaviour
lives in ``offboard.service.running`` (the daemon) and ``offboard.server`` (HTTP, metrics).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import timedelta

import structlog
import typer
import uvicorn
from starlette.applications import Starlette

from offboard.cli.provision import provisioning_of
from offboard.cli.state import state_of
from offboard.cli.wiring import (
    build_directory,
    build_source,
    open_configured_store,
    verifying_transport,
)
from offboard.ports import Store, SystemClock
from offboard.server.app import create_app
from offboard.server.metrics import MeteredTransport, Metrics, PrometheusTelemetry
from offboard.server.webhook import WebhookReceiver
from offboard.service.daemon_passes import ReconcilingPasses
from offboard.service.leasing import Lease
from offboard.service.passes import Passes
from offboard.service.provisioning_passes import ProvisioningPasses
from offboard.service.running import Daemon, DaemonConfig
from offboard.service.status import DaemonStatus
from offboard.settings import Settings

log = structlog.get_logger(__name__)


def register(app: typer.Typer) -> None:
    """Add the ``run`` command to the root app."""
    app.command("run")(run)


def run(ctx: typer.Context) -> None:
    """Run the daemon: event re-checks, periodic reconciliation, webhooks and /metrics.

    It acts (applies plans, under the guards) only while it holds the leader lease in the
    store, so several replicas can share one store. SIGTERM or SIGINT stops it gracefully.

    Example: offboard --config /etc/offboard/offboard.toml run
    """
    settings = state_of(ctx).settings()
    asyncio.run(serve(settings, install_signals=True))


@dataclass
class Assembly:
    """The daemon and its web app, built from the settings."""

    daemon: Daemon
    app: Starlette
    status: DaemonStatus
    metrics: Metrics


def daemon_config(settings: Settings) -> DaemonConfig:
    """The daemon's timing, from the ``daemon`` section."""
    section = settings.daemon
    return DaemonConfig(
        poll_interval=section.poll_interval.total_seconds(),
        reconcile_interval=section.reconcile_interval.total_seconds(),
        lease_ttl=section.lease_ttl,
    )


def readiness_limits(settings: Settings) -> dict[str, timedelta]:
    """Ready while the last complete reconciliation is at most two intervals (+ slack) old."""
    interval = settings.daemon.reconcile_interval
    return {
        "reconcile": 2 * interval + timedelta(minutes=5),
        "vendor": max(timedelta(minutes=5), 3 * settings.daemon.poll_interval),
    }


async def assemble(
    settings: Settings,
    stack: AsyncExitStack,
    *,
    clock: SystemClock | None = None,
    holder: str | None = None,
    store: Store | None = None,
) -> Assembly:
    """Build adapters, store, daemon and app; ``stack`` closes what needs closing."""
    clock = clock or SystemClock()
    metrics = Metrics()
    status = DaemonStatus(clock, PrometheusTelemetry(metrics))

    def seen(vendor: str, ok: bool) -> None:
        status.vendor_reachable(vendor, ok, clock.now())

    if store is None:
        sql_store = open_configured_store(settings)
        stack.callback(sql_store.close)
        store = sql_store
    metered = {
        vendor: MeteredTransport(verifying_transport(bundle), metrics, vendor, seen)
        for vendor, bundle in (("keycloak", settings.keycloak.ca_bundle), ("atlassian", None))
    }
    source = build_source(settings, metered["keycloak"], clock=clock)
    stack.push_async_callback(source.aclose)
    directory = build_directory(settings, metered["atlassian"])
    stack.push_async_callback(directory.aclose)
    passes: Passes = ReconcilingPasses(source, directory, store, settings.policy_model(), clock)
    if settings.provisioning.enabled and directory.scim is not None:
        provisioning = provisioning_of(settings, source, directory)
        passes = ProvisioningPasses(passes, provisioning, store, clock)
    config = daemon_config(settings)
    lease = Lease(store, clock, holder=holder, ttl=config.lease_ttl)
    daemon = Daemon(passes, source, store, clock, status, lease, config)
    receiver = WebhookReceiver(
        _secret_bytes(settings),
        daemon.submit,
        count=lambda result: metrics.webhooks.labels(result).inc(),
    )
    app = create_app(status, metrics, receiver, readiness_limits=readiness_limits(settings))
    return Assembly(daemon, app, status, metrics)


async def serve(
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    install_signals: bool = False,
    holder: str | None = None,
    store: Store | None = None,
    on_ready: Callable[[Assembly], None] | None = None,
) -> None:
    """Run the daemon and its HTTP server until ``stop`` is set (or a signal arrives)."""
    stop = stop or asyncio.Event()
    async with AsyncExitStack() as stack:
        assembly = await assemble(settings, stack, holder=holder, store=store)
        server = _Server(
            uvicorn.Config(
                assembly.app,
                host=settings.daemon.listen_host,
                port=settings.daemon.listen_port,
                log_level="warning",
                lifespan="off",
                access_log=False,
            )
        )
        http = asyncio.create_task(server.serve(), name="http")
        with _signals(stop, enabled=install_signals):
            if on_ready is not None:
                on_ready(assembly)
            listen = f"{settings.daemon.listen_host}:{settings.daemon.listen_port}"
            log.info("daemon started", listen=listen)
            await assembly.daemon.run(stop)
        server.should_exit = True
        await http


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the daemon owns SIGTERM/SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.contextmanager
def _signals(stop: asyncio.Event, *, enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    loop = asyncio.get_running_loop()
    handled = (signal.SIGTERM, signal.SIGINT)
    for number in handled:
        loop.add_signal_handler(number, stop.set)
    try:
        yield
    finally:
        for number in handled:
            loop.remove_signal_handler(number)


def _secret_bytes(settings: Settings) -> bytes:
    secret = settings.daemon.webhook_secret
    return secret.get_secret_value().encode() if secret is not None else b""
