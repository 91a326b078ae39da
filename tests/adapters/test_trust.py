"""One TLS context per kind of trust, shared by every client of the process and built at the
first ``https`` connection (issue 18: start-up), and still verifying as strictly as before."""

from __future__ import annotations

import os
import ssl
from pathlib import Path

import pytest

from offboard.adapters.http import build_client, send
from offboard.adapters.transport import pooled_transport
from offboard.adapters.trust import default_trust, system_trust
from offboard.cli.wiring import verifying_transport
from offboard.ports import TemporaryError
from tests.adapters.test_transport import http_server, pool_of
from tests.notify_servers import make_certificate


def serving(cert: Path, key: Path) -> ssl.SSLContext:
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(str(cert), str(key))
    return tls


async def test_plain_http_clients_load_no_ca_bundle() -> None:
    async with http_server() as server, build_client(server.url) as one, \
            build_client(server.url) as two:  # fmt: skip
        assert (await one.get("/")).json() == {}
        assert (await two.get("/")).json() == {}
        assert pool_of(one).pool._ssl_context is None
        assert pool_of(two).pool._ssl_context is None


async def test_clients_share_one_default_context_that_still_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = make_certificate(tmp_path)
    async with http_server(serving(cert, key)) as server:
        async with build_client(server.url) as client:  # certifi's trust: refused
            with pytest.raises(TemporaryError, match="CERTIFICATE_VERIFY_FAILED"):
                await send(client, client.build_request("GET", "/"), "untrusted")
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # honoured as httpx honours it
        async with build_client(server.url) as one, build_client(server.url) as two:
            assert (await one.get("/")).json() == {}
            assert (await two.get("/")).json() == {}
            shared = pool_of(one).pool._ssl_context
            assert shared is pool_of(two).pool._ssl_context is default_trust()
    assert shared.verify_mode == ssl.CERT_REQUIRED
    assert shared.check_hostname
    monkeypatch.delenv("SSL_CERT_FILE")
    assert default_trust() is not shared  # a changed environment gets its own context


async def test_a_private_ca_bundle_is_trusted_by_one_shared_context(tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path)
    async with http_server(serving(cert, key)) as server:
        async with build_client(server.url, transport=verifying_transport()) as client:
            with pytest.raises(TemporaryError, match="CERTIFICATE_VERIFY_FAILED"):
                await send(client, client.build_request("GET", "/"), "system store only")
        first, second = verifying_transport(cert), verifying_transport(cert)
        async with build_client(server.url, transport=first) as one, \
                build_client(server.url, transport=second) as two:  # fmt: skip
            assert (await one.get("/")).json() == {}
            assert (await two.get("/")).json() == {}
            assert pool_of(one).pool._ssl_context is pool_of(two).pool._ssl_context
    context = system_trust(cert)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert system_trust(cert) is context
    assert system_trust() is not context  # the system store alone is another trust


async def test_a_replaced_ca_bundle_is_read_again(tmp_path: Path) -> None:
    cert, _ = make_certificate(tmp_path)
    before = system_trust(cert)
    (tmp_path / "rotated").mkdir()
    rotated, key = make_certificate(tmp_path / "rotated")
    written = cert.stat().st_mtime_ns
    cert.write_bytes(rotated.read_bytes())
    os.utime(cert, ns=(written, written + 1_000_000_000))  # replaced a second later
    assert system_trust(cert) is not before
    async with http_server(serving(rotated, key)) as server, \
            build_client(server.url, transport=verifying_transport(cert)) as client:  # fmt: skip
        assert (await client.get("/")).json() == {}


async def test_a_context_given_is_used_as_is(tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path)
    trusted = ssl.create_default_context(cafile=str(cert))
    async with http_server(serving(cert, key)) as server, \
            build_client(server.url, transport=pooled_transport(trusted)) as client:  # fmt: skip
        assert (await client.get("/")).json() == {}
        assert pool_of(client).pool._ssl_context is trusted
