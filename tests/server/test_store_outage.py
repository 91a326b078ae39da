"""The operations listener while the store is unreachable (QA finding: /metrics was a 500).

Prometheus reads ``offboard_ready`` and everything else from one scrape; a scrape that fails
while the store is down lost every metric exactly when they were needed, and uvicorn wrote a
traceback per scrape. Now the guard gauges keep their last values and the scrape answers.
"""

from __future__ import annotations

import httpx
import structlog
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from offboard.server.failures import ContainFailures
from offboard.service.holds import GuardState
from tests.server.conftest import Wired


class StoreDownError(Exception):
    """What a database driver raises, with a message that must not reach the client."""


def unreachable() -> GuardState:
    raise StoreDownError("connection to db.internal:5432 failed for user offboard (SELECT holds)")


async def test_metrics_answer_while_the_store_is_unreachable(wired: Wired) -> None:
    wired.status.vendor_reachable("store", True, wired.clock.now())
    wired.status.guard_reader = unreachable
    with structlog.testing.capture_logs() as logs:
        first = await wired.client.get("/metrics")
        second = await wired.client.get("/metrics")
    assert first.status_code == 200
    assert second.status_code == 200
    assert "offboard_ready" in first.text
    said = [line for line in logs if line["event"].startswith("metrics: the hold")]
    assert len(said) == 1, "one line per outage, not one per scrape"
    assert said[0]["error"] == "StoreDownError"  # the driver's message (hosts, SQL) stays out
    assert "db.internal" not in str(logs)


def failing_app() -> Starlette:
    async def broken(request: Request) -> Response:
        raise StoreDownError("SELECT * FROM links WHERE email = 'ada@example.com'")

    return Starlette(routes=[Route("/broken", broken)], middleware=[Middleware(ContainFailures)])


async def test_an_unexpected_error_is_a_short_500_and_one_log_line() -> None:
    app = failing_app()
    transport = httpx.ASGITransport(app=app)  # raises what the app lets escape
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        with structlog.testing.capture_logs() as logs:
            response = await client.get("/broken")
    assert response.status_code == 500
    assert "ada@example.com" not in response.text
    assert "SELECT" not in response.text
    assert response.json()["error"].startswith("internal error")
    [line] = logs
    assert line["event"] == "request failed"
    assert line["error"] == "StoreDownError"
    assert line["path"] == "/broken"
    assert "test_store_outage.py" in line["where"]
    assert "ada@example.com" not in str(line)


async def test_an_error_after_the_response_started_only_ends_it() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise StoreDownError("half-way")

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    with structlog.testing.capture_logs() as logs:
        await ContainFailures(app)({"type": "http", "path": "/x", "method": "GET"}, receive, send)
    assert [m["type"] for m in sent] == ["http.response.start"]  # no second start
    assert logs[0]["event"] == "request failed"
