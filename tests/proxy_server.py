"""A small HTTP proxy on 127.0.0.1 for the proxy tests: it answers ``CONNECT host:port``,
keeps what it saw, and tunnels the bytes to the loopback server it maps that name to.

The names the clients ask for (``api.atlassian.test``...) resolve nowhere but here, as a
company's egress proxy resolves the internet's names for hosts that cannot: a request that
reaches its server went through this proxy. Nothing leaves loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


@dataclass
class Seen:
    """One request the proxy got: its request line's target and its Proxy-Authorization."""

    method: str
    target: str
    authorization: str | None


@dataclass
class ProxyServer:
    """The proxy's address (``url``), the names it maps (``host:port`` to a loopback
    ``(host, port)``) and every request it got."""

    url: str = ""
    routes: dict[str, tuple[str, int]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def address(self) -> str:
        """``host:port`` of the proxy, as offboard shows it."""
        return self.url.removeprefix("http://")


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, asyncio.CancelledError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(ConnectionError, OSError):
        writer.close()


def _parse(head: bytes) -> Seen:
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
    auth = {k.strip().lower(): v.strip() for k, v in headers.items()}.get("proxy-authorization")
    return Seen(method, target, auth)


@asynccontextmanager
async def running_proxy() -> AsyncIterator[ProxyServer]:
    """The proxy, listening on 127.0.0.1 until the block ends."""
    proxy = ProxyServer()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        proxy.tasks.append(task)
        try:
            seen = _parse(await reader.readuntil(b"\r\n\r\n"))
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            writer.close()
            return
        proxy.seen.append(seen)
        route = proxy.routes.get(seen.target) if seen.method == "CONNECT" else None
        if route is None:  # what a proxy says when it cannot reach the server
            writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            writer.close()
            return
        upstream_reader, upstream_writer = await asyncio.open_connection(*route)
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))

    listener = await asyncio.start_server(serve, "127.0.0.1", 0)
    proxy.url = f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}"
    async with listener:
        yield proxy
        for task in proxy.tasks:
            task.cancel()
        if proxy.tasks:
            await asyncio.wait(proxy.tasks, timeout=5)
