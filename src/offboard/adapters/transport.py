"""The network transport of our API clients: httpx over httpcore, with a small, cheap pool.

httpx's own transport, built on the same httpcore pool, with two differences that matter on
every request (``benchmarks/bench_http_overhead.py`` measures them):

* limits sized to our concurrency and a keep-alive expiry under the servers' (see below);
* the network under the pool is asyncio's own (``adapters.asyncio_network``), not AnyIO's:
  cheaper reads and writes, a request's head and body sent in one write, and a liveness check
  of idle connections that costs an attribute read.

Everything else is httpcore's and httpx's: the connection pool, HTTP/1.1, TLS (verified with
the context httpx builds, shared by every client and built at the first ``https``
connection: ``adapters.trust``), timeouts and the error mapping.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

import httpcore
import httpx

from offboard.adapters.asyncio_network import AsyncioBackend
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
            network_backend=AsyncioBackend(),
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
