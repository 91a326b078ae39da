"""Run an ASGI app with uvicorn on a free loopback port, in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    """Ask the kernel for a port that is free right now on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def free_ports(count: int, host: str = LOOPBACK) -> list[int]:
    """``count`` distinct ports free right now on ``host``.

    Each probe stays bound until all are chosen: two ``free_port()`` calls in a row may get
    the same port back from the kernel, which once gave a daemon the same listen and webhook
    port (CI stop 29).
    """
    probes = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for probe in probes:
            probe.bind((host, 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


@contextmanager
def serve_in_thread(
    app: ASGIApp, *, host: str = LOOPBACK, port: int = 0, startup_timeout: float = 10.0
) -> Iterator[str]:
    """Serve ``app`` in a daemon thread and yield its base URL (``http://host:port``).

    The server stops (and the thread is joined) when the context exits. ``port=0`` picks a
    free port.
    """
    chosen_port = port or free_port(host)
    config = uvicorn.Config(
        app, host=host, port=chosen_port, log_level="warning", lifespan="off", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"emulator:{chosen_port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"emulator server did not start on {host}:{chosen_port}")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{chosen_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=startup_timeout)
