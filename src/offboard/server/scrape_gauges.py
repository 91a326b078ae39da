"""Gauges computed when ``/metrics`` is scraped, from what the daemon knows right then:
readiness (the same reasons as ``/readyz``) and the last admin-event poll, so that the alert
rules can see a replica not ready, or a leader whose event cursor stopped moving."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from offboard.server.metrics import Metrics
from offboard.service.status import DaemonStatus


def refresh(status: DaemonStatus, metrics: Metrics, limits: Mapping[str, timedelta]) -> None:
    metrics.ready.set(0 if status.not_ready_reasons(limits) else 1)
    if status.last_poll is not None:
        metrics.last_poll.set(status.last_poll.timestamp())
