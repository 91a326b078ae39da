"""Our clients' network layer over real loopback sockets: TLS verified, a small pool that
reuses live connections and drops closed ones, no cookie jar, URLs joined as httpx joins."""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvicorn

from offboard.adapters.http import ApiClient, absolute, build_client, send
from offboard.adapters.transport import (
    KEEPALIVE_EXPIRY,
    POOL_LIMITS,
    PooledTransport,
    pooled_transport,
)
from offboard.ports import TemporaryError
from tests.notify_servers import make_certificate

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"


@dataclass
class Server:
    """A loopback HTTP/1.1 server answering each request with its body (``{}`` when it has
    none); counts connections."""

    url: str
    connections: int = 0
    close_after_answer: bool = False
    handlers: list[asyncio.Task[None]] = field(default_factory=list)


@asynccontextmanager
async def http_server(tls: ssl.SSLContext | None = None) -> AsyncIterator[Server]:
    server = Server("")

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server.connections += 1
        task = asyncio.current_task()
        assert task is not None
        server.handlers.append(task)
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                length = re.search(rb"(?i)content-length: *(\d+)", head)
                body = await reader.readexactly(int(length.group(1))) if length else b"{}"
                writer.write(ANSWER % (len(body), body))
                await writer.drain()
                if server.close_after_answer:  # without saying so: the client must notice
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    listener = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=tls)
    port = listener.sockets[0].getsockname()[1]
    server.url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    async with listener:
        yield server
        if server.handlers:  # each ends once its client has closed the connection
            await asyncio.wait(server.handlers, timeout=5)


def pool_of(client: httpx.AsyncClient) -> PooledTransport:
    transport = client._transport
    inner = getattr(transport, "_inner", transport)  # under the circuit breaker
    inner = getattr(inner, "direct", inner)  # behind the proxy routing (adapters.proxies)
    assert isinstance(inner, PooledTransport)
    return inner


async def test_idle_connections_are_reused_and_capped() -> None:
    async with http_server() as server, build_client(server.url) as client:
        await asyncio.gather(*(client.get("/at-once") for _ in range(12)))
        assert server.connections == 12
        opened = server.connections
        for _ in range(10):
            assert (await client.get("/one-by-one")).json() == {}
        assert server.connections == opened  # each reused a kept connection
        assert len(pool_of(client).pool.connections) <= POOL_LIMITS.max_keepalive_connections


async def test_a_connection_the_server_closed_is_not_reused() -> None:
    async with http_server() as server, build_client(server.url) as client:
        server.close_after_answer = True
        for _ in range(3):
            assert (await client.get("/again")).json() == {}
            await asyncio.sleep(0.05)  # the server's close reaches the client's socket
        assert server.connections == 3  # each closed one was seen closed, none failed


async def test_tls_is_verified(tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(str(cert), str(key))
    async with http_server(tls) as server:
        async with build_client(server.url) as client:
            with pytest.raises(TemporaryError, match="CERTIFICATE_VERIFY_FAILED"):
                await send(client, client.build_request("GET", "/"), "untrusted")
        trusted = ssl.create_default_context(cafile=str(cert))
        async with build_client(server.url, transport=pooled_transport(trusted)) as client:
            for _ in range(3):
                assert (await client.get("/")).json() == {}
        assert server.connections == 1  # the refused handshake never got to it; one kept


async def test_bodies_arrive_whole_over_a_socket() -> None:
    async with http_server() as server, build_client(server.url) as client:
        for size in (2, 100_000, 1_000_000):  # past the read-ahead and write buffers
            body = {"message": "m" * size}
            assert (
                await client.post("/users/x/manage/lifecycle/disable", json=body)
            ).json() == body


def test_keepalive_expires_before_uvicorn_closes() -> None:
    """The emulators run on uvicorn: our idle connections must expire before its do, or a
    request may leave on a connection the server is closing (a ReadError)."""
    assert uvicorn.Config(app=None).timeout_keep_alive > KEEPALIVE_EXPIRY
    assert POOL_LIMITS.keepalive_expiry == KEEPALIVE_EXPIRY


async def test_no_cookie_is_kept_or_sent_back() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, headers={"Set-Cookie": "session=abc; Path=/"}, json={})

    async with build_client(
        "https://api.example.test", transport=httpx.MockTransport(handler)
    ) as client:
        assert isinstance(client, ApiClient)
        await client.get("/one")
        await client.get("/two")
        assert "cookie" not in seen[1].headers
        assert not client.cookies
        with pytest.raises(TypeError, match="no cookies"):
            client.cookies = {"a": "b"}  # type: ignore[assignment]


@pytest.mark.parametrize(
    "base", ["https://api.atlassian.com", "https://api.atlassian.com/", "http://h:8080/gw/"]
)
@pytest.mark.parametrize(
    "path", ["/users/abc/manage", "admin/v2/orgs/o%2Fx/users", "/users/a:b|c/manage/lifecycle/x"]
)
def test_absolute_urls_are_the_ones_httpx_would_join(base: str, path: str) -> None:
    client = httpx.AsyncClient(base_url=base)
    joined = client.build_request("GET", path).url
    assert client.build_request("GET", absolute(client, path)).url == joined
