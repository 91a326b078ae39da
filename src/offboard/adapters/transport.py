"""The network transport of our API clients: httpx over httpcore, with a small, cheap pool.

httpx's own transport, built on the same httpcore pool, with three differences that matter on
every request (``benchmarks/bench_http_overhead.py`` measures them):

* limits sized to our concurrency and a keep-alive expiry under the servers' (see below);
* a request's head and body sent in one write, not two (see ``_Stream.write``);
* a cheaper liveness check of idle connections. Before each request and after each answer
  the pool asks every idle connection whether its socket is readable (a server that closed
  it). The AnyIO stream answers through its attribute map, rebuilt on each call (about 10 µs);
  the socket, looked up once, answers the same question with one ``poll`` (under 1 µs).

The ``timeout`` parameters are httpcore's interface (hence ``noqa: ASYNC109``).
Everything else is httpcore's: TLS (verified with the context httpx builds, shared by every
client and built at the first ``https`` connection: ``adapters.trust``), timeouts, the error
mapping, reads and writes.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
from collections.abc import Callable, Iterable
from typing import Any

import httpcore
import httpx

from offboard.adapters.proxies import Proxy, ProxyRouting, proxy_environment
from offboard.adapters.trust import default_trust

KEEPALIVE_EXPIRY = 4.0
"""Seconds an idle connection is kept for reuse: under the shortest keep-alive of the servers
we call. uvicorn (the emulators, many self-hosted fronts) closes an idle connection after 5 s,
httpx's own default: with both sides giving up on the same connection at the same moment, a
request could leave on it just as the server closed it, before the pool could see the close,
and meet a ``ReadError`` (retried, but a wasted round). Expiring first leaves no such moment.
Keycloak (Quarkus, 30 min idle) and Atlassian's edge (a minute or more) keep theirs longer,
so this costs them at most a new connection after 4 s of silence."""
POOL_LIMITS = httpx.Limits(
    max_connections=100, max_keepalive_connections=8, keepalive_expiry=KEEPALIVE_EXPIRY
)
"""At most 8 idle connections per client (twice the default concurrency of listing and
apply): the pool checks each idle connection before every request and after every answer."""

HOLD_AT_MOST = 64 * 1024
"""Bytes of a request held back at most before they are sent (a large body goes at once)."""
SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)
"""httpcore's socket option shape."""


def is_readable(sock: socket.socket | None) -> bool:
    """Whether ``recv`` would return at once: data or the end of a connection the server
    closed (httpcore's own test, on a socket that no longer exists too)."""
    fd = -1 if sock is None else sock.fileno()
    if fd < 0:
        return True
    poll = select.poll()
    poll.register(fd, select.POLLIN)
    return bool(poll.poll(0))


class _Stream(httpcore.AsyncNetworkStream):
    """An httpcore stream whose liveness check reads its socket directly, and whose writes
    leave together when the answer is first read."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._socket: socket.socket | None = inner.get_extra_info("socket")
        self._held: list[bytes] = []
        self._held_size = 0
        self._write_timeout: float | None = None

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        if self._held:
            # As httpcore does after a failed write: go on and read what the server said.
            with contextlib.suppress(httpcore.WriteError):
                await self._flush()
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Hold ``buffer`` until the answer is read (or the held bytes pass
        :data:`HOLD_AT_MOST`). httpcore writes a request's head and its body separately, and
        each send on its own costs a full trip through the network stack (on loopback, the
        receiver's side too: about as much CPU as the rest of a small request)."""
        if not buffer:
            return
        self._held.append(buffer)
        self._held_size += len(buffer)
        self._write_timeout = timeout
        if self._held_size > HOLD_AT_MOST:
            await self._flush()

    async def _flush(self) -> None:
        data = b"".join(self._held)
        self._held.clear()
        self._held_size = 0
        await self._inner.write(data, self._write_timeout)

    async def aclose(self) -> None:
        self._held.clear()
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> httpcore.AsyncNetworkStream:
        # TLS runs over the same socket: its readability is still the server's close.
        return _Stream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return is_readable(self._socket)
        return self._inner.get_extra_info(info)


class _Backend(httpcore.AsyncNetworkBackend):
    """httpcore's AnyIO backend, its streams wrapped in :class:`_Stream`."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _Stream(stream)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_unix_socket(path, timeout, socket_options)
        return _Stream(stream)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _Pool(httpcore.AsyncConnectionPool):
    """httpcore's pool, its TLS context asked for at its first ``https`` connection: a client
    that only ever speaks plain ``http`` (the emulators, tests) never loads a CA bundle."""

    def __init__(self, trust: Callable[[], ssl.SSLContext], **options: Any) -> None:
        super().__init__(ssl_context=None, **options)
        self._trust = trust

    def create_connection(self, origin: httpcore.Origin) -> httpcore.AsyncConnectionInterface:
        if self._ssl_context is None and origin.scheme == b"https":
            # Never left unset for https: httpcore would fall back to a context of its own.
            self._ssl_context = self._trust()
        return super().create_connection(origin)


class PooledTransport(httpx.AsyncHTTPTransport):
    """``httpx.AsyncHTTPTransport`` (no proxy, HTTP/1.1) on the pool described above.

    httpx builds its pool in ``__init__`` with no way to name the network backend, so this
    builds the same pool itself; the rest of the class (request and answer mapping, errors,
    closing) is httpx's, which keeps the pool in ``_pool``. TLS: a context given is used as
    is; ``verify=True`` is httpx's default trust, built once per process (``adapters.trust``)
    and only when a connection first needs it.
    """

    def __init__(
        self, verify: ssl.SSLContext | bool = True, limits: httpx.Limits = POOL_LIMITS
    ) -> None:
        if verify is True:
            trust: Callable[[], ssl.SSLContext] = default_trust
        else:
            context = httpx.create_ssl_context(verify=verify)
            trust = lambda: context  # noqa: E731
        self.trust = trust
        self._pool = _Pool(
            trust,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_Backend(),
        )

    @property
    def pool(self) -> httpcore.AsyncConnectionPool:
        """The connection pool (for tests and benchmarks)."""
        assert isinstance(self._pool, httpcore.AsyncConnectionPool)
        return self._pool


def pooled_transport(verify: ssl.SSLContext | bool = True) -> httpx.AsyncBaseTransport:
    """The network transport of our clients: TLS verified, the pool of :data:`POOL_LIMITS`.

    With proxy variables set (``HTTPS_PROXY``, ``NO_PROXY``...: ``adapters.proxies``), the
    pool is wrapped to send the requests they name through the proxy; without any, it is the
    pool itself, at no cost per request. ProxySettingError when a proxy variable is unusable.
    """
    direct = PooledTransport(verify)
    environment = proxy_environment()
    if not environment:
        return direct
    return ProxyRouting(direct, environment, lambda proxy: proxied_transport(proxy, direct.trust))


def proxied_transport(
    proxy: Proxy, trust: Callable[[], ssl.SSLContext]
) -> httpx.AsyncHTTPTransport:
    """httpx's transport through ``proxy`` (HTTP CONNECT for ``https`` targets), verifying the
    servers with the same context as the direct pool, end to end through the tunnel; an
    ``https://`` proxy is verified with it too."""
    context = trust()
    to_proxy = context if proxy.url.startswith("https://") else None  # httpcore: https only
    return httpx.AsyncHTTPTransport(
        verify=context, limits=POOL_LIMITS, proxy=httpx.Proxy(proxy.url, ssl_context=to_proxy)
    )
