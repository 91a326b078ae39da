"""Behind an egress proxy: `config check` says how each side is reached, an unusable proxy
variable is refused before any call, a failure through the proxy names it, and the daemon's
metered clients and the notifications client go through it like the rest."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from typer.testing import CliRunner

from offboard.adapters import trust
from offboard.adapters.http import build_client
from offboard.cli.exit_codes import ExitCode
from offboard.cli.main import app
from offboard.cli.notify_wiring import build_channels
from offboard.cli.proxy_checks import route_checks
from offboard.cli.wiring import verifying_transport
from offboard.core.notifications import Condition, Kind, Text
from offboard.ports import SystemClock
from offboard.server.metrics import MeteredTransport, Metrics
from offboard.settings.loading import load_settings
from tests.adapters.test_proxied_transport import serving
from tests.adapters.test_transport import http_server
from tests.cli.test_run_commands import World, world
from tests.notify_servers import make_certificate
from tests.proxy_server import running_proxy

__all__ = ["world"]  # fixtures used below

SECRET = "hunter2-secret"


def test_config_check_lines_name_the_route_of_each_side(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", f"http://svc:{SECRET}@proxy.corp:3128")
    monkeypatch.setenv("NO_PROXY", ".example.com")
    monkeypatch.setenv("OFFBOARD_NOTIFICATIONS__SLACK__URL", "https://hooks.slack.test/T/B/path-x")
    lines = {r.name: r.detail for r in route_checks(load_settings(config_file))}
    assert lines == {
        "keycloak.route": "https://sso.example.com direct (no_proxy matches)",
        "atlassian.route": "https://api.atlassian.com via proxy proxy.corp:3128 (from HTTPS_PROXY)",
        "notifications.slack.route": (
            "https://hooks.slack.test via proxy proxy.corp:3128 (from HTTPS_PROXY)"
        ),
    }


def test_config_check_passes_with_loopback_emulators_behind_a_proxy_variable(
    world: World, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens: never used
    code, output = world.run(runner, "config", "check")
    assert code == ExitCode.OK, output
    url = world.served.urls["atlassian"]
    assert f"OK   atlassian.route: {url} direct (loopback is never proxied)" in output


def test_config_check_names_the_proxy_it_could_not_get_through(
    world: World, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = world.config.read_text(encoding="utf-8")
    world.config.write_text(text.replace(world.served.urls["keycloak"], "https://sso.corp.test"))
    monkeypatch.setenv("https_proxy", f"http://svc:{SECRET}@127.0.0.1:9")  # nothing listens
    code, output = world.run(runner, "config", "check")
    assert code == ExitCode.ERROR, output
    flat = " ".join(output.split())
    assert "keycloak.route: https://sso.corp.test via proxy 127.0.0.1:9 (from https_proxy)" in flat
    assert "cannot connect to the Keycloak token endpoint https://sso.corp.test" in flat
    assert "(via proxy 127.0.0.1:9)" in flat
    assert SECRET not in output


@pytest.mark.parametrize("command", [("config", "check"), ("plan",)])
def test_a_socks_proxy_is_refused_before_any_call(
    config_file: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    monkeypatch.setenv("ALL_PROXY", f"socks5://svc:{SECRET}@proxy.corp:1080")
    result = runner.invoke(app, ["--config", str(config_file), *command])
    assert result.exit_code == ExitCode.ERROR, result.output
    assert "ALL_PROXY names a socks5:// proxy" in " ".join(result.output.split())
    assert SECRET not in result.output


async def test_the_daemon_s_metered_clients_go_through_the_proxy(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cert, key = make_certificate(tmp_path, "api.atlassian.test")
    seen: list[tuple[str, bool]] = []
    async with http_server(serving(cert, key)) as server, running_proxy() as proxy:
        proxy.routes["api.atlassian.test:443"] = ("127.0.0.1", int(server.url.rsplit(":", 1)[1]))
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        metered = MeteredTransport(  # as cli.run.assemble wires each vendor
            verifying_transport(cert), Metrics(), "atlassian", lambda v, ok: seen.append((v, ok))
        )
        async with build_client("https://api.atlassian.test", transport=metered) as client:
            assert (await client.get("/admin/v1/orgs")).json() == {}
    assert [s.target for s in proxy.seen] == ["api.atlassian.test:443"]
    assert seen == [("atlassian", True)]


async def test_the_notifications_client_goes_through_the_proxy(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cert, key = make_certificate(tmp_path, "hooks.slack.test")
    monkeypatch.setattr(trust, "_built", {})  # the system store, read again with our CA in it
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    monkeypatch.setenv("OFFBOARD_NOTIFICATIONS__SLACK__URL", f"https://hooks.slack.test/T/{SECRET}")
    async with http_server(serving(cert, key)) as server, running_proxy() as proxy:
        proxy.routes["hooks.slack.test:443"] = ("127.0.0.1", int(server.url.rsplit(":", 1)[1]))
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        async with AsyncExitStack() as stack:
            channels = build_channels(load_settings(config_file), stack, SystemClock())
            await channels["slack"].send(
                Condition(Kind.TEST, "test", "a test"), Text("subject", "body")
            )
    assert [s.target for s in proxy.seen] == ["hooks.slack.test:443"]
