"""An app wired to fakes, and an httpx client that talks to it in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from offboard.ports import IdentityEvent
from offboard.server.app import create_app
from offboard.server.metrics import Metrics, PrometheusTelemetry
from offboard.server.webhook import WebhookReceiver
from offboard.service.status import DaemonStatus
from tests.server.login_helpers import OPERATOR_USER, console_login, session_store
from tests.service.fakes import FakeClock

SECRET = b"webhook-secret"
LIMITS = {
    "store": timedelta(seconds=30),
    "reconcile": timedelta(minutes=30),
    "vendor": timedelta(minutes=5),
}


@dataclass
class Wired:
    clock: FakeClock
    status: DaemonStatus
    metrics: Metrics
    receiver: WebhookReceiver
    client: httpx.AsyncClient
    queued: list[IdentityEvent] = field(default_factory=list)
    accepting: bool = True


@pytest.fixture
async def wired(tmp_path: Path) -> AsyncIterator[Wired]:
    clock = FakeClock()
    metrics = Metrics()
    status = DaemonStatus(clock, PrometheusTelemetry(metrics))
    holder: list[Wired] = []

    def submit(event: IdentityEvent) -> bool:
        if not holder[0].accepting:
            return False
        holder[0].queued.append(event)
        return True

    receiver = WebhookReceiver(
        SECRET,
        submit,
        max_body=4096,
        count=lambda r: metrics.webhooks.labels(r).inc(),
        now=clock.now,  # the deliveries below are dated at the fake clock's start
    )
    sessions = session_store(tmp_path)
    login = console_login(sessions)
    app = create_app(status, metrics, receiver, readiness_limits=LIMITS, login=login)
    transport = httpx.ASGITransport(app=app)
    cookies = login.open_session(OPERATOR_USER)  # the pages are behind the console's login
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", cookies=cookies
    ) as client:
        holder.append(Wired(clock, status, metrics, receiver, client))
        yield holder[0]
    sessions.close()
