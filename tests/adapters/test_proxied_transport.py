"""Behind a company's egress proxy (``HTTPS_PROXY``), our clients reach https servers through
it, with TLS verified end to end through the tunnel; without proxy variables nothing changes.

Loopback only: the test proxy (``tests/proxy_server.py``) maps ``api.atlassian.test``, a name
resolved nowhere else, to a local TLS server whose certificate is for that name. A request
that gets an answer went through the proxy.
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from offboard.adapters.http import build_client, send
from offboard.adapters.proxies import ProxyRouting, ProxySettingError
from offboard.adapters.transport import PooledTransport, pooled_transport
from offboard.cli.errors import explain
from offboard.cli.wiring import verifying_transport
from offboard.ports import TemporaryError
from tests.adapters.test_transport import Server, http_server
from tests.notify_servers import make_certificate
from tests.proxy_server import ProxyServer, running_proxy

TARGET = "api.atlassian.test"


def serving(cert: Path, key: Path) -> ssl.SSLContext:
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(str(cert), str(key))
    return tls


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    return make_certificate(tmp_path, TARGET)


@asynccontextmanager
async def behind_proxy(
    monkeypatch: pytest.MonkeyPatch, cert: Path, key: Path, credentials: str = ""
) -> AsyncIterator[tuple[ProxyServer, Server]]:
    """A TLS server for :data:`TARGET`, reachable only through the test proxy named by
    ``HTTPS_PROXY``."""
    async with http_server(serving(cert, key)) as server, running_proxy() as proxy:
        proxy.routes[f"{TARGET}:443"] = ("127.0.0.1", int(server.url.rsplit(":", 1)[1]))
        monkeypatch.setenv("HTTPS_PROXY", proxy.url.replace("//", f"//{credentials}"))
        yield proxy, server


async def test_a_client_built_the_normal_way_goes_through_the_proxy(
    monkeypatch: pytest.MonkeyPatch, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the default trust, as httpx honours it
    async with behind_proxy(monkeypatch, cert, key) as (proxy, server):
        async with build_client(f"https://{TARGET}") as client:
            for _ in range(3):
                assert (await client.get("/admin/v1/orgs")).json() == {}
        assert [(s.method, s.target) for s in proxy.seen] == [("CONNECT", f"{TARGET}:443")]
        assert server.connections == 1  # one tunnel, kept alive for the next requests


async def test_the_wired_transport_sends_proxy_credentials_and_never_shows_them(
    monkeypatch: pytest.MonkeyPatch, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    async with behind_proxy(monkeypatch, cert, key, "svc:hunter2-secret@") as (proxy, _server):
        transport = verifying_transport(cert)
        assert isinstance(transport, ProxyRouting)
        async with build_client(f"https://{TARGET}", transport=transport) as client:
            assert (await client.get("/")).json() == {}
            shown = f"{transport!r} {transport.environment!r} {client._transport!r}"
    assert proxy.seen[0].authorization == "Basic " + base64.b64encode(b"svc:hunter2-secret").decode(
        "ascii"
    )
    assert "hunter2" not in shown


async def test_tls_is_still_verified_through_the_tunnel(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cert, key = make_certificate(tmp_path, "other.test")  # trusted, but for another name
    async with behind_proxy(monkeypatch, cert, key) as (proxy, _server):
        async with build_client(f"https://{TARGET}", transport=verifying_transport(cert)) as client:
            with pytest.raises(TemporaryError, match="CERTIFICATE_VERIFY_FAILED"):
                await send(client, client.build_request("GET", "/"), "wrong name")
        assert proxy.seen[0].target == f"{TARGET}:443"


async def test_loopback_and_no_proxy_hosts_stay_direct(
    monkeypatch: pytest.MonkeyPatch, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    async with behind_proxy(monkeypatch, cert, key) as (proxy, _server), http_server() as local:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        async with build_client(local.url) as client:  # http://127.0.0.1:port
            assert (await client.get("/")).json() == {}
        assert local.connections == 1
        monkeypatch.setenv("NO_PROXY", f".corp.example,{TARGET}")
        transport = verifying_transport(cert)
        assert isinstance(transport, ProxyRouting)
        direct: list[str] = []  # no name lookup leaves this machine: the direct side is noted

        def answer(request: httpx.Request) -> httpx.Response:
            direct.append(str(request.url))
            return httpx.Response(200)

        transport.direct = httpx.MockTransport(answer)
        async with build_client("", transport=transport) as client:
            await client.get(f"https://{TARGET}/admin")
            await client.get("https://keycloak.corp.example/realms")
            with pytest.raises(httpx.ProxyError):  # proxied: a name the proxy does not know
                await client.get(f"https://{TARGET}.other/")
        assert direct == [f"https://{TARGET}/admin", "https://keycloak.corp.example/realms"]
        assert [s.target for s in proxy.seen] == [f"{TARGET}.other:443"]


async def test_a_failure_at_the_proxy_names_the_proxy(
    monkeypatch: pytest.MonkeyPatch, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    async with behind_proxy(monkeypatch, cert, key, "svc:hunter2-secret@") as (proxy, _server):
        async with build_client("https://unknown.test", transport=verifying_transport(cert)) as c:
            with pytest.raises(httpx.ProxyError) as refused:  # the proxy answers 502
                await c.get("/")
        said, _code = explain(refused.value)
        assert f"(via proxy {proxy.address})" in said
        assert "hunter2" not in said
    async with build_client("https://unknown.test", transport=verifying_transport(cert)) as c:
        with pytest.raises(TemporaryError, match=f"via proxy {proxy.address}"):  # proxy gone
            await send(c, c.build_request("GET", "/"), "proxy down")


async def test_closing_the_routing_transport_closes_both_pools(
    monkeypatch: pytest.MonkeyPatch, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    async with behind_proxy(monkeypatch, cert, key) as (_proxy, server), http_server() as local:
        transport = verifying_transport(cert)
        assert isinstance(transport, ProxyRouting)
        async with build_client("", transport=transport) as client:  # absolute URLs, per request
            assert (await client.get(f"https://{TARGET}/")).json() == {}
            assert (await client.get(f"{local.url}/")).json() == {}
            assert isinstance(transport.direct, PooledTransport)
            assert len(transport.direct.pool.connections) == 1
        assert transport.direct.pool.connections == []
        assert transport._proxied == {}
    assert len(server.handlers) == 1  # its one tunnel was closed, so its handler ended


def test_without_proxy_variables_the_pool_is_the_same_as_before() -> None:
    assert type(pooled_transport()) is PooledTransport
    assert type(verifying_transport()) is PooledTransport


def test_a_socks_proxy_is_refused_when_the_client_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALL_PROXY", "socks5://svc:hunter2-secret@proxy.corp:1080")
    with pytest.raises(ProxySettingError, match="ALL_PROXY names a socks5:// proxy") as refused:
        build_client("https://api.atlassian.com")
    said, _code = explain(refused.value)
    assert "ALL_PROXY" in said
    assert "hunter2" not in said
