"""The standard proxy environment (``HTTPS_PROXY``, ``NO_PROXY``...), read as curl and httpx do.

httpx honours these variables only when a client is given no transport of its own, and every
client of ours is given one (``adapters.transport``, our tuned pool): behind a company's
egress proxy, each call tried to connect directly and timed out. :func:`proxy_environment`
reads the variables once, when a transport is built, and :class:`ProxyRouting` sends each
request either to the direct pool or through the proxy (per request: the notifications client
calls absolute URLs on several hosts).

The rules:

* ``https_proxy`` for ``https`` URLs, ``http_proxy`` for ``http``, ``all_proxy`` for either
  when its own is unset; the lower-case spelling wins over the upper-case one (an empty
  lower-case value unsets it), as in curl, httpx and ``urllib``;
* ``no_proxy``: comma-separated; ``*`` is every host; ``example.com`` and ``.example.com``
  match the host and its subdomains; ``host:port`` only that port; IP addresses and CIDR
  ranges (``10.0.0.0/8``) match addresses; whitespace and case are ignored;
* loopback (``localhost``, 127.0.0.0/8, ::1) is never proxied, as in Go's net/http: a proxy
  cannot reach our loopback, and the emulators and tests live there;
* only ``http://`` and ``https://`` proxies; any other scheme is refused at start, the error
  naming the variable, never its value (it may hold credentials).

Credentials in a proxy URL (``http://user:secret@proxy:3128``) go to the proxy as
``Proxy-Authorization`` (httpx's ``Proxy``); only ``host:port`` is ever shown.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import httpx

from offboard.ports import OffboardError

_SCHEMES = ("https", "http")
_PORTS = {"http": 80, "https": 443}
_HOST_PORT = re.compile(r"^(?P<host>\[[^\]]*\]|[^:]*):(?P<port>\d+)$")
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class ProxySettingError(OffboardError):
    """A proxy variable offboard cannot use; names the variable, never its value."""


@dataclass(frozen=True)
class Proxy:
    """One proxy: its URL (credentials included: never shown) and where it is, for people."""

    url: str = field(repr=False)
    shown: str
    """``host:port`` of the proxy: what messages and ``config check`` say."""
    variable: str
    """The environment variable it came from."""


@dataclass(frozen=True)
class Route:
    """How one URL is reached: through ``proxy``, or directly (``proxy`` None) and why."""

    proxy: Proxy | None
    why: str

    def __str__(self) -> str:
        if self.proxy is None:
            return f"direct ({self.why})"
        return f"via proxy {self.proxy.shown} ({self.why})"


@dataclass(frozen=True)
class _Rule:
    """One ``no_proxy`` entry: a host name (and its subdomains) or an address range, and
    optionally one port."""

    name: str | None
    network: IpNetwork | None
    port: int | None

    def matches(self, host: str, address: IpAddress | None, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.network is not None:
            return address is not None and address in self.network
        assert self.name is not None
        return host == self.name or host.endswith("." + self.name)


@dataclass(frozen=True)
class ProxyEnvironment:
    """The proxies by URL scheme and the ``no_proxy`` exceptions, as read at one moment."""

    proxies: Mapping[str, Proxy]
    exceptions: tuple[_Rule, ...] = ()
    everything_direct: bool = False

    def __bool__(self) -> bool:
        """Whether any request could go through a proxy."""
        return bool(self.proxies) and not self.everything_direct

    def route(self, url: httpx.URL) -> Route:
        """How a request to ``url`` is sent."""
        host = url.host.lower().rstrip(".")
        address = _address(host)
        if host == "localhost" or (address is not None and address.is_loopback):
            return Route(None, "loopback is never proxied")
        scheme = url.scheme
        proxy = self.proxies.get(scheme)
        if proxy is None:
            return Route(None, f"no {scheme}_proxy or all_proxy set")
        if self.everything_direct:
            return Route(None, "no_proxy is *")
        port = url.port or _PORTS.get(scheme, 0)
        if any(e.matches(host, address, port) for e in self.exceptions):
            return Route(None, "no_proxy matches")
        return Route(proxy, f"from {proxy.variable}")


def proxy_environment(environ: Mapping[str, str] | None = None) -> ProxyEnvironment:
    """The proxy variables of ``environ`` (the process's by default); ProxySettingError when
    a proxy URL offboard cannot use is set."""
    env = os.environ if environ is None else environ
    fallback = _variable(env, "all_proxy")
    proxies: dict[str, Proxy] = {}
    for scheme in _SCHEMES:
        found = _variable(env, f"{scheme}_proxy") or fallback
        if found is not None:
            proxies[scheme] = _proxy(*found)
    rules = (_variable(env, "no_proxy") or ("", ""))[1]
    entries = [e.strip().lower() for e in rules.split(",")]
    entries = [e for e in entries if e]
    return ProxyEnvironment(
        proxies,
        tuple(_rule(e) for e in entries if e != "*"),
        everything_direct="*" in entries,
    )


def _variable(env: Mapping[str, str], name: str) -> tuple[str, str] | None:
    """(variable, value) of ``name``, lower case first; an empty lower-case one unsets it."""
    for spelling in (name, name.upper()):
        value = env.get(spelling)
        if value is not None:
            return (spelling, value.strip()) if value.strip() else None
    return None


def _proxy(variable: str, value: str) -> Proxy:
    url_text = value if "://" in value else f"http://{value}"  # curl's default scheme
    try:
        url = httpx.URL(url_text)
    except (httpx.InvalidURL, ValueError):
        raise ProxySettingError(f"{variable} is not a URL offboard can use") from None
    if url.scheme not in _SCHEMES:
        raise ProxySettingError(
            f"{variable} names a {url.scheme}:// proxy; offboard supports http:// and "
            "https:// proxies only (unset it or point it at an HTTP proxy)"
        )
    if not url.host:
        raise ProxySettingError(f"{variable} names no proxy host")
    port = url.port or _PORTS[url.scheme]
    host = f"[{url.host}]" if ":" in url.host else url.host
    return Proxy(url_text, f"{host}:{port}", variable)


def _rule(entry: str) -> _Rule:
    port: int | None = None
    if (split := _HOST_PORT.match(entry)) is not None:
        entry, port = split["host"], int(split["port"])
    entry = entry.strip("[]")
    try:
        return _Rule(None, ipaddress.ip_network(entry, strict=False), port)
    except ValueError:
        pass
    name = entry.removeprefix("*").lstrip(".").rstrip(".")
    return _Rule(name, None, port)


def _address(host: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


class ProxyRouting(httpx.AsyncBaseTransport):
    """Sends each request to the ``direct`` transport or through its proxy.

    The proxied transports are built at the first request that needs each (``connect``), so a
    client whose every call stays direct pays nothing for them. A connection error through a
    proxy says so, naming the proxy (``host:port``, never its credentials): the usual cause
    is the proxy, not the server.
    """

    def __init__(
        self,
        direct: httpx.AsyncBaseTransport,
        environment: ProxyEnvironment,
        connect: Callable[[Proxy], httpx.AsyncBaseTransport],
    ) -> None:
        self.direct = direct
        self.environment = environment
        self._connect = connect
        self._proxied: dict[Proxy, httpx.AsyncBaseTransport] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # Decided per request: a few µs (benchmarks/bench_proxy_routing.py) of a request's
        # millisecond, and nothing to keep in step with the environment.
        proxy = self.environment.route(request.url).proxy
        if proxy is None:
            return await self.direct.handle_async_request(request)
        transport = self._proxied.get(proxy)
        if transport is None:
            transport = self._proxied[proxy] = self._connect(proxy)
        try:
            return await transport.handle_async_request(request)
        except httpx.TransportError as exc:
            reason = str(exc) or type(exc).__name__
            raise type(exc)(f"{reason} (via proxy {proxy.shown})", request=request) from exc

    async def aclose(self) -> None:
        proxied = list(self._proxied.values())
        self._proxied.clear()
        try:
            for transport in proxied:
                await transport.aclose()
        finally:
            await self.direct.aclose()
