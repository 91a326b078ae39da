"""`config check` tells a connection failure, a wrong realm and a bad secret apart, with the URL."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from offboard.cli.exit_codes import ExitCode
from tests.cli.test_run_commands import World, world

__all__ = ["world"]  # fixture used below


def _token_lines(output: str) -> str:
    flat = " ".join(output.split())
    found = re.search(r"FAIL token: (.*?) fix: (.*?)(?: (?:OK|FAIL) |$)", flat)
    assert found is not None, output
    return f"{found[1]} | fix: {found[2]}"


def test_a_wrong_realm_says_404_and_names_the_realm_setting(
    world: World, runner: CliRunner
) -> None:
    world.config.write_text(world.config.read_text().replace('realm = "acme"', 'realm = "acme2"'))
    code, output = world.run(runner, "config", "check")
    assert code == ExitCode.ERROR
    line = _token_lines(output)
    assert f"{world.served.urls['keycloak']}/realms/acme2/protocol/openid-connect/token" in line
    assert "404" in line
    assert "keycloak.realm" in line
    assert "secret" not in line


def test_a_bad_secret_points_at_the_secret(world: World, runner: CliRunner) -> None:
    text = world.config.read_text()
    world.config.write_text(text.replace("demo-client-secret", "wrong-secret"))
    code, output = world.run(runner, "config", "check")
    assert code == ExitCode.ERROR
    line = _token_lines(output)
    assert "secret of client 'offboard'" in line
    assert "wrong-secret" not in output


def test_a_connection_failure_names_the_url_and_the_network(
    world: World, runner: CliRunner
) -> None:
    url = world.served.urls["keycloak"]
    world.config.write_text(world.config.read_text().replace(url, "http://127.0.0.1:9"))
    code, output = world.run(runner, "config", "check")
    assert code == ExitCode.ERROR
    line = _token_lines(output)
    assert "cannot connect to the Keycloak token endpoint http://127.0.0.1:9/realms/acme" in line
    assert "keycloak.base_url" in line
    assert "secret" not in line


def test_https_to_a_plain_http_port_says_so(world: World, runner: CliRunner) -> None:
    url = world.served.urls["keycloak"]
    world.config.write_text(world.config.read_text().replace(url, url.replace("http:", "https:")))
    code, output = world.run(runner, "config", "check")
    assert code == ExitCode.ERROR
    line = _token_lines(output)
    assert "says https:// but the server answers plain HTTP on that port" in line


def test_an_auth_prefix_names_the_base_url_not_the_realm(world: World, runner: CliRunner) -> None:
    url = world.served.urls["keycloak"]
    world.config.write_text(world.config.read_text().replace(url, url + "/auth"))
    code, output = world.run(runner, "config", "check")
    assert code == ExitCode.ERROR
    line = _token_lines(output)
    assert f"no Keycloak token endpoint at {url}/auth/realms/acme/" in line
    assert "keycloak.base_url" in line
    assert "no /auth" in line


def test_a_secret_in_the_file_and_a_secret_file_others_read_are_warned(
    world: World, runner: CliRunner
) -> None:
    secret_file = world.config.parent / "keycloak-secret"
    secret_file.write_text("demo-client-secret\n")
    secret_file.chmod(0o644)
    text = world.config.read_text()
    inline = re.search(r'client_secret = "demo-client-secret"\n', text)
    assert inline is not None, text
    world.config.write_text(text.replace(inline[0], 'client_secret_file = "keycloak-secret"\n'))
    code, output = world.run(runner, "config", "check")
    flat = " ".join(output.split())
    assert code == ExitCode.OK, output
    assert f"WARN keycloak.client_secret_file: {secret_file} can be read by other users" in flat
    assert f"fix: chmod 600 {secret_file}" in flat
    assert "WARN atlassian.api_key in offboard.toml: the secret is written in the" in flat
    assert "demo-client-secret" not in output

    secret_file.chmod(0o600)
    _, output = world.run(runner, "config", "check")
    assert "keycloak.client_secret_file" not in output
