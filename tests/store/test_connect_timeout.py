"""A PostgreSQL that does not answer is given up after a bounded time (QA finding).

Without a connect timeout libpq waits as long as the network lets it: a server that takes the
connection and never speaks (a hung host, a half-dead proxy) held the daemon's lease loop,
its shutdown and every command for as long as the connection stayed open. Here a loopback
listener that accepts and never answers stands for it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from offboard.store import opening
from offboard.store.errors import StoreLocationError
from offboard.store.sql_store import open_store


@contextmanager
def silent_server() -> Iterator[int]:
    """Accepts connections on loopback and never sends a byte."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        listener.close()


def test_a_silent_postgres_is_given_up_after_the_connect_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(opening, "POSTGRES_CONNECT_TIMEOUT", 1)
    with silent_server() as port:
        started = time.monotonic()
        with pytest.raises(StoreLocationError) as raised:
            open_store(f"postgresql+psycopg://offboard@127.0.0.1:{port}/offboard")
        waited = time.monotonic() - started
    assert waited < 30, waited  # without the timeout: never, until the server hangs up
    assert "timeout expired" in str(raised.value)
