"""Issue 19 item 12: with both vendors unreachable, SIGTERM stops the daemon within its grace.

Both vendors are "black holes" on loopback: they accept the connection and never answer, so
every read waits for its timeout and then for retries. The daemon is stopped while its first
reconciliation hangs; ``serve`` must return within ``daemon.shutdown_grace`` (plus a little
for the event loop), not after the retries (about 25 s before).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from offboard.cli.run import Assembly, serve
from offboard.settings import Settings
from tests.hostile.conftest import HostileRow
from tests.keycloak.server import free_ports

GRACE = 2.0
SLACK = 1.5


@contextlib.asynccontextmanager
async def black_hole() -> AsyncIterator[str]:
    """A loopback server that accepts connections and never says a word."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for writer in held:
            writer.close()
        server.close()


@pytest.mark.slow
async def test_sigterm_with_unreachable_vendors_stops_within_the_grace(
    tmp_path: Path, hostile_row: HostileRow
) -> None:
    async with black_hole() as keycloak, black_hole() as atlassian:
        listen_port, webhook_port = free_ports(2)
        settings = Settings.from_values(
            {
                "keycloak": {"base_url": keycloak, "realm": "r", "client_secret": "x",
                             "timeout": 30},
                "atlassian": {"base_url": atlassian, "org_id": "o", "api_key": "k",
                              "timeout": 30},
                "store": {"path": str(tmp_path / "s.db")},
                "daemon": {"listen_port": listen_port, "shutdown_grace": f"{GRACE:g}s",
                           "webhook_secret": "a-webhook-secret-long-enough-0123",
                           "webhook_port": webhook_port},
            }
        )  # fmt: skip
        stop = asyncio.Event()
        ready: list[Assembly] = []
        task = asyncio.create_task(serve(settings, stop=stop, on_ready=ready.append))
        for _ in range(200):
            if ready:
                break
            await asyncio.sleep(0.05)
        assert ready
        await asyncio.sleep(1.0)  # the first reconciliation is now waiting on the black holes
        stop.set()
        started = time.monotonic()
        await asyncio.wait_for(task, 60)
        took = time.monotonic() - started
    assert took <= GRACE + SLACK
    hostile_row(
        area="shutdown",
        inputs=1,
        wrongful_actions=0,
        crashes=0,
        secrets_leaked=0,
        lost_actions=0,
        note=f"stop with both vendors black-holed: stopped in {took:.1f} s "
        f"(grace {GRACE:.0f} s; about 25 s before)",
    )
