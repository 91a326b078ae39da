"""Every Prometheus metric offboard exports, on its own registry.

:class:`PrometheusTelemetry` implements the daemon's ``Telemetry``; :func:`httpx_hooks` gives the
event hooks that count API requests and 429s per vendor and endpoint on the adapters' clients.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import httpx
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from offboard.core.budget import BudgetCategory
from offboard.service.holds import GuardState
from offboard.service.passes import PassReport

LATENCY_BUCKETS = (0.5, 1, 2, 3, 5, 7.5, 10, 15, 30, 60, 120, 300, 900, 1800, 3600)
_WORD_SEGMENT = re.compile(r"[A-Za-z][A-Za-z_-]{0,39}|v[0-9]{1,2}")
"""Path segments kept in a label: API words (``users``, ``brute-force``, ``v2``). Anything
else is an id (UUIDs, Atlassian account ids, numbers, Keycloak federated ids ``f:…:name``,
emails): one series per person would publish who they are and grow without bound."""


def endpoint_label(path: str) -> str:
    """A low-cardinality endpoint label: every segment that is not an API word is ``{id}``."""
    segments = (
        segment if not segment or _WORD_SEGMENT.fullmatch(segment) else "{id}"
        for segment in path.split("/")
    )
    return "/".join(segments) or "/"


class Metrics:
    """The metric families, registered on ``registry``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.actions = Counter(
            "offboard_actions", "Actions carried out, by kind and outcome.",
            ["kind", "outcome"], registry=r,
        )  # fmt: skip
        self.guard_trips = Counter(
            "offboard_guard_trips", "Plans blocked by a safety guard.", ["guard"], registry=r
        )
        self.blocked_plans = Gauge(
            "offboard_blocked_plans", "Plans currently blocked by a guard.", registry=r
        )
        self.passes = Counter(
            "offboard_reconciliations", "Passes run, by kind and result.",
            ["kind", "result"], registry=r,
        )  # fmt: skip
        self.pass_duration = Histogram(
            "offboard_reconciliation_duration_seconds", "Duration of passes, by kind.",
            ["kind"], registry=r,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
        )  # fmt: skip
        self.pass_counts = Gauge(
            "offboard_reconciliation_last_count", "Counts seen by the last full reconciliation.",
            ["what"], registry=r,
        )  # fmt: skip
        self.last_complete = Gauge(
            "offboard_reconciliation_last_complete_timestamp_seconds",
            "When the last complete full reconciliation finished.", registry=r,
        )  # fmt: skip
        self.api_requests = Counter(
            "offboard_api_requests", "HTTP requests to vendor APIs.",
            ["vendor", "endpoint", "method", "status"], registry=r,
        )  # fmt: skip
        self.api_throttled = Counter(
            "offboard_api_throttled", "HTTP 429 answers from vendor APIs.",
            ["vendor", "endpoint"], registry=r,
        )  # fmt: skip
        self.event_lag = Gauge(
            "offboard_event_lag_seconds", "Age of the newest Keycloak event when read.", registry=r
        )
        self.latency = Histogram(
            "offboard_deprovisioning_latency_seconds",
            "From the Keycloak change (event time, or first seen by a reconciliation) to the "
            "read-back confirming the account is deactivated.",
            registry=r, buckets=LATENCY_BUCKETS,
        )  # fmt: skip
        self.leader = Gauge("offboard_leader", "1 while this replica holds the lease.", registry=r)
        self.hold_active = Gauge(
            "offboard_hold_active", "1 while a hold stops deprovisioning organisation-wide.",
            registry=r,
        )  # fmt: skip
        self.hold_waiting = Gauge(
            "offboard_hold_waiting", "People waiting on the active hold.", registry=r
        )
        self.category_hold_active = Gauge(
            "offboard_category_hold_active",
            "1 while a hold stops that budget category (deprovisioning or a provisioning kind).",
            ["category"], registry=r,
        )  # fmt: skip
        self.budget_used = Gauge(
            "offboard_budget_used", "Deprovisioning slots spent in the window.",
            ["window"], registry=r,
        )  # fmt: skip
        self.budget_left = Gauge(
            "offboard_budget_left", "Deprovisioning slots left in the window.",
            ["window"], registry=r,
        )  # fmt: skip
        self.source_anomaly = Gauge(
            "offboard_source_anomaly",
            "1 while the last full Keycloak read showed a count drop or an incomplete listing.",
            registry=r,
        )  # fmt: skip
        self.webhooks = Counter(
            "offboard_webhooks", "Webhook deliveries, by result.", ["result"], registry=r
        )
        self.rate_limit_pauses = Counter(
            "offboard_rate_limit_pauses", "Pauses of every call to a vendor after it said to "
            "slow down (429 or no budget left).", ["vendor"], registry=r,
        )  # fmt: skip
        self.rate_limit_pause_seconds = Counter(
            "offboard_rate_limit_pause_seconds", "Seconds spent in those pauses (each capped "
            "at the configured maximum).", ["vendor"], registry=r,
        )  # fmt: skip
        self.credential_expiry_days = Gauge(
            "offboard_credential_expiry_days", "Days until a credential expires (negative once "
            "expired), for credentials whose expiry is known.", ["credential"], registry=r,
        )  # fmt: skip
        self.ready = Gauge(
            "offboard_ready", "1 while /readyz says ready (set when /metrics is scraped).",
            registry=r,
        )  # fmt: skip
        self.last_poll = Gauge(
            "offboard_event_poll_last_timestamp_seconds",
            "When the leader last read Keycloak's admin events (the event cursor's progress).",
            registry=r,
        )  # fmt: skip
        self.notifications_sent = Counter(
            "offboard_notifications_sent", "Notifications delivered, by channel and kind.",
            ["channel", "kind"], registry=r,
        )  # fmt: skip
        self.notifications_failed = Counter(
            "offboard_notifications_failed", "Notifications given up after retries, by "
            "channel and kind.", ["channel", "kind"], registry=r,
        )  # fmt: skip


class PrometheusTelemetry:
    """The daemon's telemetry sink, writing to :class:`Metrics`."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def pass_finished(self, report: PassReport) -> None:
        result = "complete" if report.complete else "incomplete"
        if report.blocked_guards:
            result = "blocked"
        self.metrics.passes.labels(report.kind, result).inc()
        self.metrics.pass_duration.labels(report.kind).observe(report.duration)
        if report.kind == "full":
            for what, count in report.counts.items():
                self.metrics.pass_counts.labels(what).set(count)
            if report.complete:
                self.metrics.last_complete.set(report.finished_at.timestamp())

    def action_finished(self, kind: str, outcome: str) -> None:
        self.metrics.actions.labels(kind, outcome).inc()

    def guard_tripped(self, guard: str) -> None:
        self.metrics.guard_trips.labels(guard).inc()

    def blocked_plans(self, count: int) -> None:
        self.metrics.blocked_plans.set(count)

    def deprovisioning_latency(self, seconds: float) -> None:
        self.metrics.latency.observe(seconds)

    def event_lag(self, seconds: float) -> None:
        self.metrics.event_lag.set(seconds)

    def leader(self, held: bool) -> None:
        self.metrics.leader.set(1 if held else 0)

    def guard_state(self, state: GuardState) -> None:
        hold = state.hold
        self.metrics.hold_active.set(1 if hold is not None else 0)
        self.metrics.hold_waiting.set(len(hold.people) if hold is not None else 0)
        self.metrics.source_anomaly.set(1 if state.source_anomaly else 0)
        held = {h.category for h in state.other_holds} | ({hold.category} if hold else set())
        for category in BudgetCategory:
            active = 1 if category.value in held else 0
            self.metrics.category_hold_active.labels(category.value).set(active)
        for usage in state.usage:
            self.metrics.budget_used.labels(usage.name).set(usage.used)
            self.metrics.budget_left.labels(usage.name).set(usage.left)


class MeteredTransport(httpx.AsyncBaseTransport):
    """Wraps an adapter's transport to count its requests (same labels as :func:`httpx_hooks`).

    For adapters that build their own client but accept ``transport=``; TLS settings stay
    those of the wrapped transport.
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        metrics: Metrics,
        vendor: str,
        seen: Callable[[str, bool], None] | None = None,
    ) -> None:
        self._inner = inner
        self._hook = httpx_hooks(metrics, vendor, seen)["response"][0]
        self._vendor = vendor
        self._seen = seen

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await self._inner.handle_async_request(request)
        except httpx.TransportError:
            if self._seen is not None:
                self._seen(self._vendor, False)
            raise
        response.request = request
        await self._hook(response)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


ResponseHook = Callable[[httpx.Response], Awaitable[None]]


def httpx_hooks(
    metrics: Metrics,
    vendor: str,
    seen: Callable[[str, bool], None] | None = None,
) -> dict[str, list[ResponseHook]]:
    """``event_hooks`` for an ``httpx.AsyncClient``: counts requests, 429s and reachability.

    ``seen(vendor, ok)`` is told of every answer (ok unless 5xx), e.g. for /readyz.
    """

    async def on_response(response: httpx.Response) -> None:
        endpoint = endpoint_label(response.request.url.path)
        status = str(response.status_code)
        metrics.api_requests.labels(vendor, endpoint, response.request.method, status).inc()
        if response.status_code == 429:
            metrics.api_throttled.labels(vendor, endpoint).inc()
        if seen is not None:
            seen(vendor, response.status_code < 500)

    return {"response": [on_response]}
