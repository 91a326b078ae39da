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
from typing import TYPE_CHECKING

import typer

from offboard.cli.state import state_of
from offboard.core.reasons import realm_name
from offboard.ports import Store, SystemClock

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from offboard.adapters.http import PauseHook
    from offboard.intake.webhooks import ReplayMemory
    from offboard.server.listeners import Listener
    from offboard.server.login import ConsoleLogin
    from offboard.server.metrics import Metrics
    from offboard.service.leasing import Lease
    from offboard.service.notifying import Counters
    from offboard.service.operator import Sides
    from offboard.service.operator_requests import HandedActs
    from offboard.service.passes import Passes
    from offboard.service.pruning import StorePruning
    from offboard.service.running import Daemon, DaemonConfig
    from offboard.service.status import DaemonStatus
    from offboard.settings import Settings


def register(app: typer.Typer) -> None:
    """Add the ``run`` command to the root app."""
    app.command("run")(run)


def run(ctx: typer.Context) -> None:
    """Run the daemon: event re-checks, periodic reconciliation, webhooks and /metrics.

    It acts (applies plans, under the guards) only while it holds the leader lease in the
    store, so several replicas can share one store. SIGTERM or SIGINT stops it gracefully.

    Example: offboard --config /etc/offboard/offboard.toml run
    """
    from offboard.cli.listening import ensure_can_listen

    settings = state_of(ctx).settings()
    ensure_can_listen(settings.daemon.listen_host, settings.daemon.listen_port)
    asyncio.run(serve(settings, install_signals=True))


@dataclass
class Assembly:
    """The daemon and its web apps, built from the settings."""

    daemon: Daemon
    app: Starlette
    """The operations listener's app (status, /metrics, /healthz, /readyz)."""
    status: DaemonStatus
    metrics: Metrics
    webhook_app: Starlette | None = None
    """The webhook listener's app; None when no webhook secret is configured."""


def daemon_config(settings: Settings) -> DaemonConfig:
    """The daemon's timing, from the ``daemon`` section."""
    from offboard.service.running import DaemonConfig

    section = settings.daemon
    return DaemonConfig(
        poll_interval=section.poll_interval.total_seconds(),
        reconcile_interval=section.reconcile_interval.total_seconds(),
        lease_ttl=section.lease_ttl,
        # The listeners and clients need the rest of the grace to close (see _listeners).
        shutdown_grace=section.shutdown_grace.total_seconds() - _closing_share(settings),
        max_backlog=section.max_backlog,
        wave_linger=section.wave_linger.total_seconds(),
        wave_max_people=section.wave_max_people,
    )


def readiness_limits(settings: Settings) -> dict[str, timedelta]:
    """Ready while the store answered within a lease ttl (any replica) and, on the leader,
    the last complete reconciliation is at most two intervals (+ slack) old."""
    interval = settings.daemon.reconcile_interval
    return {
        "store": settings.daemon.lease_ttl,
        "reconcile": 2 * interval + timedelta(minutes=5),
        "vendor": max(timedelta(minutes=5), 3 * settings.daemon.poll_interval),
    }


def _handed_acts(
    store: Store, sides: Sides, lease: Lease, reconfirm_after: timedelta | None
) -> HandedActs | None:
    """The leader's loop over operator acts the command line queued (only a store of ours
    keeps the queue)."""
    from offboard.service.operator_requests import HandedActs
    from offboard.store import SqlStore
    from offboard.store.operator_requests import StoredRequests

    if not isinstance(store, SqlStore):
        return None
    return HandedActs(StoredRequests(store.engine), sides, lease, reconfirm_after)


async def assemble(
    settings: Settings,
    stack: AsyncExitStack,
    *,
    clock: SystemClock | None = None,
    holder: str | None = None,
    store: Store | None = None,
) -> Assembly:
    """Build adapters, store, daemon and app; ``stack`` closes what needs closing."""
    from offboard.cli.credentials import watch_credentials
    from offboard.cli.licence_wiring import daily_check
    from offboard.cli.notify_wiring import build_notifications
    from offboard.cli.wiring import (
        build_directory,
        build_source,
        open_configured_store,
        verifying_transport,
    )
    from offboard.server.app import create_app, create_webhook_app
    from offboard.server.console import ConsoleBackend
    from offboard.server.console.acting import Leadership
    from offboard.server.metrics import MeteredTransport, Metrics, PrometheusTelemetry
    from offboard.server.webhook import WebhookReceiver
    from offboard.service.daemon_passes import ReconcilingPasses
    from offboard.service.gate import PassGate
    from offboard.service.holds import guard_state
    from offboard.service.intake_health import IntakeHealth
    from offboard.service.leasing import LeaderCursors, Lease
    from offboard.service.operator import Sides
    from offboard.service.running import Daemon
    from offboard.service.status import DaemonStatus
    from offboard.store import SqlStore
    from offboard.store.operator_requests import StoredRequests

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
    directory = build_directory(
        settings, metered["atlassian"], store, on_pause=_pause_reporter(status, metrics)
    )
    watch_credentials(settings, status, metrics)
    stack.push_async_callback(directory.aclose)
    config = daemon_config(settings)
    lease = Lease(store, clock, holder=holder, ttl=config.lease_ttl)
    policy = settings.policy_model()
    gate = PassGate()
    passes: Passes = ReconcilingPasses(
        source,
        directory,
        store,
        policy,
        clock,
        lease=lease,
        reconfirm_after=settings.daemon.reconfirm_after,
        gate=gate,
    )
    if settings.provisioning.enabled and directory.scim is not None:
        # Here, not at the top: provisioning brings SCIM's models (about 0.5 s to import).
        from offboard.cli.provision import provisioning_of
        from offboard.service.provisioning_passes import ProvisioningPasses

        provisioning = provisioning_of(settings, source, directory)
        passes = ProvisioningPasses(passes, provisioning, store, clock, lease, gate=gate)
    held_store = store  # the hold and budget live in the store every replica shares
    status.guard_reader = lambda: guard_state(held_store, policy, clock)
    cursors = LeaderCursors(store, lease)
    daily = daily_check(settings, source, directory, store, clock, lease)
    limits = readiness_limits(settings)
    told = build_notifications(
        settings, stack, status, store, clock, limits, _notification_counters(metrics)
    )
    sides = Sides(
        source, directory, store, clock, policy, realm_name(f"/realms/{settings.keycloak.realm}")
    )
    handed = _handed_acts(store, sides, lease, settings.daemon.reconfirm_after)
    daemon = Daemon(
        passes, source, cursors, clock, status, lease, config, daily, told, handed, gate,
        intake=IntakeHealth(source.intake_check, status),
        pruning=_pruning(store, settings.store.retention, clock),
    )  # fmt: skip
    window = settings.daemon.webhook_window
    receiver = WebhookReceiver(
        _secret_bytes(settings),
        daemon.submit,
        replays=_replay_memory(store, window, clock),
        count=lambda result: metrics.webhooks.labels(result).inc(),
        now=clock.now,
        window=window,
        group_scope=bool(settings.keycloak.scope_groups),
        realm_id=lambda: source.realm_id,
        realm_name=settings.keycloak.realm,
        keycloak_behind=lambda: source.auth.keycloak_behind,
    )
    history = store.licence_reports if isinstance(store, SqlStore) else None
    console = ConsoleBackend(
        sides,
        lease_ttl=settings.daemon.lease_ttl,
        reconfirm_after=settings.daemon.reconfirm_after,
        search=store.search_journal if isinstance(store, SqlStore) else None,
        plans=store.plan_document if isinstance(store, SqlStore) else None,
        licences=history,
        nudge=daemon.submit,
        leadership=Leadership(lease, daemon.gate),
        requests=StoredRequests(store.engine) if isinstance(store, SqlStore) else None,
    )
    app = create_app(
        status, metrics, readiness_limits=limits, licences=history,
        console=console, login=_console_login(settings, store),
    )  # fmt: skip
    webhook_app = create_webhook_app(receiver) if receiver.secret else None
    return Assembly(daemon, app, status, metrics, webhook_app)


def _pruning(store: Store, retention: timedelta, clock: SystemClock) -> StorePruning | None:
    """The leader's retention (``service.pruning``), on a store of ours; none with ``0s``."""
    from functools import partial

    from offboard.service.pruning import StorePruning
    from offboard.store import SqlStore
    from offboard.store.retention import prune_step

    if not isinstance(store, SqlStore) or retention <= timedelta(0):
        return None
    return StorePruning(partial(prune_step, store.engine), retention, clock)


def _console_login(settings: Settings, store: Store) -> ConsoleLogin | None:
    """The console's login when ``[console]`` is configured; sessions live in the store so
    every replica shares them and a logout revokes them everywhere."""
    from offboard.cli.wiring import verifying_transport
    from offboard.server.login import build_login
    from offboard.settings import ConfigError
    from offboard.store import SqlStore

    if not settings.console.enabled:
        return None
    if not isinstance(store, SqlStore):
        raise ConfigError("console: the login keeps its sessions in offboard's own store")
    transport = verifying_transport(settings.console.ca_bundle)
    return build_login(settings.console, store.engine, transport)


def _replay_memory(store: Store, window: timedelta, clock: SystemClock) -> ReplayMemory:
    """Delivery ids in the store when it is ours (they survive a restart), else in memory."""
    from offboard.intake.webhooks import ReplayFilter
    from offboard.store import SqlStore
    from offboard.store.deliveries import StoredDeliveries

    if isinstance(store, SqlStore):
        # A delivery dated up to one window ahead may be replayed up to two windows later.
        return StoredDeliveries(store.engine, 2 * window + timedelta(minutes=1), clock.now)
    return ReplayFilter()


def _notification_counters(metrics: Metrics) -> Counters:
    """Deliveries counted per channel and kind; every kind starts at 0 for each channel."""
    from offboard.cli.notify_wiring import known_kinds
    from offboard.service.notifying import Counters

    for channel in ("email", "slack", "webhook"):
        for kind in known_kinds():
            metrics.notifications_sent.labels(channel, kind)
            metrics.notifications_failed.labels(channel, kind)
    return Counters(
        sent=lambda channel, kind: metrics.notifications_sent.labels(channel, kind).inc(),
        failed=lambda channel, kind: metrics.notifications_failed.labels(channel, kind).inc(),
    )


def _pause_reporter(status: DaemonStatus, metrics: Metrics) -> PauseHook:
    """Each Atlassian rate-limit pause: on /readyz (warnings) and in the metrics."""

    def report(asked: float, applied: float) -> None:
        status.record_rate_limit_pause("atlassian", asked, applied)
        metrics.rate_limit_pauses.labels("atlassian").inc()
        metrics.rate_limit_pause_seconds.labels("atlassian").inc(applied)

    return report


async def serve(
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    install_signals: bool = False,
    holder: str | None = None,
    store: Store | None = None,
    on_ready: Callable[[Assembly], None] | None = None,
) -> None:
    """Run the daemon and its listeners until ``stop`` is set (or a signal arrives).

    Shutdown stays within ``daemon.shutdown_grace``: the daemon gets most of it, the
    listeners and the adapters' clients the rest.
    """
    import structlog

    from offboard.server.listeners import AcceptErrorFilter, raise_open_file_limit

    log = structlog.get_logger(__name__)

    stop = stop or asyncio.Event()
    AcceptErrorFilter.install(asyncio.get_running_loop())
    before, after = raise_open_file_limit()
    async with AsyncExitStack() as stack:
        assembly = await assemble(settings, stack, holder=holder, store=store)
        servers, watchers = _listeners(settings, assembly)
        http = [asyncio.create_task(server.serve(), name="http") for server in servers]
        with _signals(stop, enabled=install_signals):
            if on_ready is not None:
                on_ready(assembly)
            log.info("daemon started", listeners=_described(settings), routes=_routes(settings),
                     open_files=[before, after])  # fmt: skip
            await assembly.daemon.run(stop)
        for server in servers:
            server.should_exit = True
        for watcher in watchers:
            watcher.cancel()
        await asyncio.gather(*http, *watchers, return_exceptions=True)


def _routes(settings: Settings) -> dict[str, str]:
    """How each side is reached, directly or through which proxy (as ``config check`` says)."""
    from offboard.cli.proxy_checks import route_checks

    return {check.name: check.detail for check in route_checks(settings)}


def _listeners(
    settings: Settings, assembly: Assembly
) -> tuple[list[Listener], list[asyncio.Task[None]]]:
    """The operations listener, and the webhook listener when webhooks are configured."""
    from offboard.server.listeners import Limits, ReloadingTLS, listener

    section = settings.daemon
    limits = Limits(
        header_timeout=section.header_timeout.total_seconds(),
        keep_alive_timeout=section.keep_alive_timeout.total_seconds(),
        max_connections=section.max_connections,
        shutdown_timeout=_closing_share(settings),
    )
    servers = [listener(assembly.app, section.listen_host, section.listen_port, limits)]
    watchers: list[asyncio.Task[None]] = []
    if assembly.webhook_app is not None:
        tls = None
        if section.tls_cert_file is not None and section.tls_key_file is not None:
            tls = ReloadingTLS(section.tls_cert_file, section.tls_key_file)
            watchers.append(asyncio.create_task(tls.watch(), name="tls-reload"))
        webhook = listener(
            assembly.webhook_app, section.webhook_host, section.webhook_port, limits, tls
        )
        servers.append(webhook)
    return servers, watchers


def _closing_share(settings: Settings) -> float:
    """The part of the shutdown grace kept for closing listeners: a quarter, at most 2 s."""
    return min(2.0, settings.daemon.shutdown_grace.total_seconds() / 4)


def _described(settings: Settings) -> list[str]:
    section = settings.daemon
    shown = [f"operations http://{section.listen_host}:{section.listen_port}"]
    if section.webhook_secret is not None:
        scheme = "https" if section.webhook_tls else "http"
        shown.append(f"webhooks {scheme}://{section.webhook_host}:{section.webhook_port}")
    return shown


@contextlib.contextmanager
def _signals(stop: asyncio.Event, *, enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    loop = asyncio.get_running_loop()
    handled = (signal.SIGTERM, signal.SIGINT)
    for number in handled:
        loop.add_signal_handler(number, _stop_requested, stop, signal.Signals(number).name)
    try:
        yield
    finally:
        for number in handled:
            loop.remove_signal_handler(number)


def _stop_requested(stop: asyncio.Event, name: str) -> None:
    """Say which signal stops the daemon (a second one changes nothing: said so too)."""
    import structlog

    log = structlog.get_logger(__name__)
    if stop.is_set():
        log.info("already stopping", signal=name, what_to_do="wait: the shutdown is bounded by "
                 "daemon.shutdown_grace; SIGKILL would leave the actions in flight to the next "
                 "start to settle")  # fmt: skip
        return
    log.info("stop requested", signal=name)
    stop.set()


def _secret_bytes(settings: Settings) -> bytes:
    secret = settings.daemon.webhook_secret
    return secret.get_secret_value().encode() if secret is not None else b""
