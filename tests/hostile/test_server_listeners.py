"""Issue 19 item 2: the webhook on its own listener, the rest on loopback, TLS, a small /readyz.

TLS certificates are made by the ``openssl`` command on the fly (self-signed, loopback only).
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from offboard.cli.run import assemble
from offboard.server.app import create_app
from offboard.server.listeners import Limits, ReloadingTLS, listener
from offboard.server.metrics import Metrics, PrometheusTelemetry
from offboard.service.passes import PassReport
from offboard.service.status import DaemonStatus
from offboard.settings import ConfigError, Settings
from offboard.store import open_store
from tests.hostile.conftest import HostileRow
from tests.keycloak.server import free_port
from tests.service.fakes import FakeClock

SECRET = "a-webhook-secret-long-enough-0123"
LIMITS = {"reconcile": timedelta(minutes=30), "vendor": timedelta(minutes=5)}
OPS_ONLY = ("/", "/metrics", "/readyz")


def values(**daemon: Any) -> dict[str, Any]:
    return {
        "keycloak": {"base_url": "http://127.0.0.1:9", "realm": "r", "client_secret": "x"},
        "atlassian": {"base_url": "http://127.0.0.1:9", "org_id": "o", "api_key": "k"},
        "daemon": {"webhook_secret": SECRET, **daemon},
    }


async def test_the_webhook_listener_serves_only_the_webhook_and_ops_never_the_webhook(
    tmp_path: Path, hostile_row: HostileRow
) -> None:
    settings = Settings.from_values(values())
    store = open_store(tmp_path / "s.db")
    try:
        async with AsyncExitStack() as stack:
            assembly = await assemble(settings, stack, store=store)
            assert assembly.webhook_app is not None
            webhook = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=assembly.webhook_app), base_url="http://w"
            )
            ops = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=assembly.app), base_url="http://o"
            )
            async with webhook, ops:
                hidden = [(await webhook.get(path)).status_code for path in OPS_ONLY]
                posted = await ops.post("/webhooks/keycloak", content=b"{}")
                alive = await webhook.get("/healthz")
    finally:
        store.close()
    assert hidden == [404, 404, 404]
    assert posted.status_code in (403, 404, 405)  # 403: no login configured, nothing served
    assert alive.status_code == 200
    assert (settings.daemon.listen_host, settings.daemon.webhook_host) == ("127.0.0.1",) * 2
    hostile_row(
        area="server",
        inputs=len(OPS_ONLY) + 1,
        wrongful_actions=0,
        crashes=0,
        secrets_leaked=0,
        lost_actions=0,
        note="status page, /metrics and /readyz asked on the webhook listener: 404; "
        "the webhook asked on the operations listener: refused",
    )


def test_webhooks_beyond_loopback_need_tls_and_short_secrets_are_refused() -> None:
    with pytest.raises(ConfigError, match="webhook_host: serving webhooks beyond loopback"):
        Settings.from_values(values(webhook_host="0.0.0.0"))  # noqa: S104 - refused
    with pytest.raises(ConfigError, match="tls_key_file"):
        Settings.from_values(values(tls_cert_file="/x.pem"))
    for short in ("x", "s" * 15):
        with pytest.raises(ConfigError, match="webhook_secret: shorter than 16"):
            Settings.from_values(values() | {"daemon": {"webhook_secret": short}})
    no_webhooks = Settings.from_values(values() | {"daemon": {}})
    assert no_webhooks.daemon.webhook_secret is None


def make_certificate(folder: Path, name: str) -> tuple[Path, Path]:
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", f"/CN={name}", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def served_certificate(port: int, trusted: Path) -> str:
    """The CN of the certificate the listener presents, verified against ``trusted``."""
    context = ssl.create_default_context(cafile=str(trusted))
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        subject = dict(pair[0] for pair in tls.getpeercert()["subject"])  # type: ignore[index]
    return str(subject["commonName"])


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
async def test_the_webhook_listener_serves_tls_and_reloads_a_renewed_certificate(
    tmp_path: Path,
) -> None:
    first = make_certificate(tmp_path, "first")
    second = make_certificate(tmp_path, "second")
    live_cert, live_key = tmp_path / "live.pem", tmp_path / "live.key"
    shutil.copy(first[0], live_cert)
    shutil.copy(first[1], live_key)
    tls = ReloadingTLS(live_cert, live_key)
    metrics = Metrics()
    app = create_app(
        DaemonStatus(FakeClock(), PrometheusTelemetry(metrics)), metrics, readiness_limits=LIMITS
    )
    port = free_port()
    server = listener(app, "127.0.0.1", port, Limits(), tls)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(200):  # bounded wait for the listener to bind
            if server.started:
                break
            await asyncio.sleep(0.025)
        before = await asyncio.to_thread(served_certificate, port, first[0])
        async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=first[0])) as c:
            health = await c.get(f"https://127.0.0.1:{port}/healthz")
        shutil.copy(second[0], live_cert)  # renewal: new files in place
        shutil.copy(second[1], live_key)
        assert tls.check()
        after = await asyncio.to_thread(served_certificate, port, second[0])
        with pytest.raises(ssl.SSLError):  # an old client trust no longer matches
            await asyncio.to_thread(served_certificate, port, first[0])
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
    assert (before, health.status_code, after, tls.reloads) == ("first", 200, "second", 1)


def test_a_half_written_certificate_keeps_the_previous_pair(tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    cert, key = make_certificate(tmp_path, "only")
    tls = ReloadingTLS(cert, key)
    cert.write_text("-----BEGIN CERTIFICATE-----\ntrunc")
    assert not tls.check()
    assert tls.reloads == 0


async def test_readyz_gives_a_count_and_a_few_not_every_failing_user(
    hostile_row: HostileRow,
) -> None:
    clock = FakeClock()
    metrics = Metrics()
    status = DaemonStatus(clock, PrometheusTelemetry(metrics))
    failing = [f"re-read of user {n:08d}-aaaa-bbbb-cccc-dddddddddddd failed" for n in range(205)]
    now = clock.now()
    status.set_leader(True)  # only the leader is judged on its reconciliations
    status.vendor_reachable("store", True, now)
    status.record_pass(
        PassReport("full", now, now, complete=False, problems=tuple(failing)), "full"
    )
    app = create_app(status, metrics, readiness_limits=LIMITS)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://o"
    ) as client:
        answer = await client.get("/readyz")
    assert answer.status_code == 503
    assert len(answer.content) < 2_000  # was 47 KB with 205 linked users
    assert "205 problems" in answer.text
    assert sum(f"{n:08d}" in answer.text for n in range(205)) <= 3
    hostile_row(
        area="server",
        inputs=len(failing),
        wrongful_actions=0,
        crashes=0,
        secrets_leaked=0,
        lost_actions=0,
        note=f"/readyz with 205 failing users: {len(answer.content)} bytes, a count and 3 ids",
    )
