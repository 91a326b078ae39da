"""Issue 19 item 1: slow clients must not stall the daemon's listeners.

Loopback only, bounded: 300 half-open connections (a request line and one header, never
finished), as the review sent them.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from offboard.server.app import create_app, create_webhook_app
from offboard.server.listeners import AcceptErrorFilter, Limits, Listener, listener
from offboard.server.metrics import Metrics, PrometheusTelemetry
from offboard.server.webhook import WebhookReceiver
from offboard.service.status import DaemonStatus
from tests.hostile.conftest import HostileRow
from tests.keycloak.server import free_port
from tests.service.fakes import FakeClock

HALF_OPEN = 300
HEADER_TIMEOUT = 1.0
PARTIAL_REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"  # no blank line: never finished
LIMITS = {"reconcile": timedelta(minutes=30), "vendor": timedelta(minutes=5)}


@contextlib.asynccontextmanager
async def serving(limits: Limits) -> AsyncIterator[tuple[Listener, int]]:
    """The operations app on a hardened listener, in this loop."""
    metrics = Metrics()
    app = create_app(
        DaemonStatus(FakeClock(), PrometheusTelemetry(metrics)), metrics, readiness_limits=LIMITS
    )
    port = free_port()
    server = listener(app, "127.0.0.1", port, limits)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.025)
        assert server.started
        yield server, port
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def half_open(
    port: int, count: int
) -> list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    connections = []
    for _ in range(count):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(PARTIAL_REQUEST)
        await writer.drain()
        connections.append((reader, writer))
    return connections


async def closed_by_server(reader: asyncio.StreamReader, within: float) -> bool:
    try:
        return await asyncio.wait_for(reader.read(1), within) == b""
    except (TimeoutError, ConnectionResetError):
        return False


@pytest.mark.slow
async def test_half_open_connections_do_not_stop_healthz_and_are_closed_after_the_header_timeout(
    hostile_row: HostileRow,
) -> None:
    async with serving(Limits(header_timeout=HEADER_TIMEOUT)) as (server, port):
        connections = await half_open(port, HALF_OPEN)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            health = await client.get("/healthz")
        assert health.status_code == 200
        # Every half-open connection is closed by the server once its header time is up.
        await asyncio.sleep(HEADER_TIMEOUT)
        verdicts = await asyncio.gather(
            *(closed_by_server(reader, HEADER_TIMEOUT * 3) for reader, _ in connections)
        )
        still_open = verdicts.count(False)
        for _, writer in connections:
            writer.close()
        assert still_open == 0
        assert len(server.server_state.connections) <= 1  # at most a keep-alive leftover
    hostile_row(
        area="server",
        inputs=HALF_OPEN,
        wrongful_actions=0,
        crashes=0,
        secrets_leaked=0,
        lost_actions=0,
        note=(
            f"{HALF_OPEN} half-open connections: /healthz answered 200 meanwhile; all closed "
            f"by the server after the {HEADER_TIMEOUT:.0f} s header timeout"
        ),
    )


async def test_a_finished_request_then_a_stalled_one_is_closed_too() -> None:
    async with serving(Limits(header_timeout=0.5, keep_alive_timeout=30)) as (_, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        assert b"200" in await asyncio.wait_for(reader.readuntil(b"\r\n"), 5)
        await asyncio.wait_for(reader.readuntil(b'"alive"}'), 5)
        writer.write(PARTIAL_REQUEST)  # the second request on the keep-alive connection stalls
        await writer.drain()
        assert await closed_by_server(reader, 3)
        writer.close()


async def test_beyond_the_connection_limit_requests_are_refused_not_queued() -> None:
    async with serving(Limits(header_timeout=30, max_connections=20)) as (_, port):
        connections = await half_open(port, 25)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            refused = await client.get("/healthz")
        for _, writer in connections:
            writer.close()
        assert refused.status_code == 503


def test_accept_errors_are_logged_once_per_interval_with_a_count(
    hostile_row: HostileRow, capsys: pytest.CaptureFixture[str]
) -> None:
    now = [0.0]
    passed_on: list[dict[str, object]] = []
    handler = AcceptErrorFilter(
        lambda loop, context: passed_on.append(context), interval=10.0, clock=lambda: now[0]
    )
    loop = asyncio.new_event_loop()
    failures = 10_000
    try:
        for n in range(failures):
            now[0] = n * 0.001  # 10,000 failures in 10 s, as a loop out of descriptors makes
            handler(loop, {"message": "socket.accept() out of system resource",
                           "exception": OSError(24, "Too many open files")})  # fmt: skip
        handler(loop, {"message": "Task exception was never retrieved"})
    finally:
        loop.close()
    assert handler.logged == 1
    assert handler.suppressed == failures - 1
    assert [c["message"] for c in passed_on] == ["Task exception was never retrieved"]
    assert "Traceback" not in capsys.readouterr().err
    hostile_row(
        area="server",
        inputs=failures,
        wrongful_actions=0,
        crashes=0,
        secrets_leaked=0,
        lost_actions=0,
        note=f"{failures} accept() failures (EMFILE) in 10 s: one log line, no traceback",
    )


def test_the_open_file_limit_is_raised_to_the_hard_limit() -> None:
    script = (
        "import resource\n"
        "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))\n"
        "from offboard.server.listeners import raise_open_file_limit\n"
        "before, after = raise_open_file_limit(4096)\n"
        "print(before, after, resource.getrlimit(resource.RLIMIT_NOFILE)[0], hard)\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    before, after, now, hard = (int(value) for value in output)
    assert before == 256
    assert after == now == min(4096, hard if hard > 0 else 4096)


async def test_a_webhook_body_that_never_finishes_is_answered_408() -> None:
    receiver = WebhookReceiver(b"a-webhook-secret-long-enough-0123", lambda e: True,
                               body_timeout=0.5)  # fmt: skip
    port = free_port()
    server = listener(create_webhook_app(receiver), "127.0.0.1", port, Limits())
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.025)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /webhooks/keycloak HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readuntil(b"\r\n"), 5)
        writer.close()
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
    assert b" 408 " in status_line
