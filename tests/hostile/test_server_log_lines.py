"""QA finding: what a hostile client makes the daemon write into its log.

uvicorn had its own log handler: every malformed request put a plain ``WARNING:  Invalid HTTP
request received.`` line into the daemon's JSON log (a log shipper parsing JSON drops or
mangles it), one line per request, as fast as a client sends them. Now uvicorn's lines are JSON
like the daemon's, and each kind is written at most once a minute with the count it left out.

Run in a child process: logging is process-global.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.hostile.conftest import HostileRow

BAD_REQUESTS = 20

CHILD = f"""
import asyncio
from offboard.cli.logs import configure_logging
configure_logging("info", "json")
from starlette.applications import Starlette
from offboard.server.listeners import Limits, listener

server = listener(Starlette(), "127.0.0.1", 0, Limits())

async def main() -> None:
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    for _ in range({BAD_REQUESTS}):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"NOT HTTP AT ALL\\r\\n\\r\\n")
        await writer.drain()
        assert (await reader.read()).startswith(b"HTTP/1.1 400")
        writer.close()
    server.should_exit = True
    await task

asyncio.run(main())
"""


def test_malformed_requests_are_logged_as_json_once_a_minute(hostile_row: HostileRow) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    parsed = [json.loads(line) for line in lines]  # every line is JSON
    invalid = [line for line in parsed if line["event"] == "Invalid HTTP request received."]
    assert len(invalid) == 1
    assert invalid[0]["level"] == "warning"
    assert invalid[0]["suppressed_since_last"] == 0
    hostile_row(
        area="server",
        inputs=BAD_REQUESTS,
        wrongful_actions=0,
        crashes=0,
        secrets_leaked=0,
        lost_actions=0,
        note="malformed requests: 400 each; one JSON log line a minute, not one per request",
    )
