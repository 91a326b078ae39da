"""Each failure class has its own exit code and a line that says what failed and the fix."""

from __future__ import annotations

import io
import socket
from contextlib import redirect_stderr
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from offboard.cli.errors import explain
from offboard.cli.exit_codes import ExitCode
from offboard.cli.main import app
from tests.cli.test_run_commands import World, world

__all__ = ["world"]  # a fixture used below


def test_a_busy_port_is_one_line_and_not_blocked(
    config_file: Path, runner: CliRunner, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config_file.write_text(
            config_file.read_text()
            + f'[daemon]\nlisten_host = "127.0.0.1"\nlisten_port = {port}\n'
            + 'webhook_secret = "a-long-enough-webhook-secret-value"\n'
            + f'[store]\npath = "{tmp_path / "s.db"}"\n'
        )
        result = runner.invoke(app, ["--config", str(config_file), "run"])
    assert result.exit_code == ExitCode.ERROR, result.output
    assert result.exit_code != ExitCode.BLOCKED
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert "daemon.listen_port" in result.output
    assert "Traceback" not in result.output


def test_an_unexpected_error_is_internal_not_operational() -> None:
    message, code = explain(ZeroDivisionError("division by zero"))
    assert code == ExitCode.INTERNAL
    assert message.startswith("internal error: ZeroDivisionError")
    assert "--debug" in message


def test_an_unreachable_vendor_names_the_url() -> None:
    import httpx

    request = httpx.Request("GET", "https://sso.example.com/realms/x/protocol/openid-connect/token")
    message, code = explain(httpx.ConnectError("connection refused", request=request))
    assert code == ExitCode.UNREACHABLE
    assert "https://sso.example.com/realms/x" in message


def test_exit_codes_are_distinct() -> None:
    values = [code.value for code in ExitCode]
    assert len(values) == len(set(values))


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ('poll_interval = "1e30s"', "ten years"),
        ("poll_interval = 1e30", "no unit"),
        ("poll_interval = 5", "5s"),
    ],
)
def test_durations_in_the_file_are_configuration_errors(
    config_file: Path, runner: CliRunner, setting: str, expected: str
) -> None:
    config_file.write_text(config_file.read_text() + f"[daemon]\n{setting}\n")
    result = runner.invoke(app, ["--config", str(config_file), "config", "show"])
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert "daemon.poll_interval" in result.output
    assert expected in result.output
    assert "OverflowError" not in result.output


def test_a_blocked_apply_says_so_on_stderr(config_file: Path, runner: CliRunner) -> None:
    from offboard.cli.flows import run_applying
    from offboard.core.plan import GuardName, GuardResult, Plan
    from offboard.executor import PlanBlockedError

    guard = GuardResult(GuardName.MAX_DEACTIVATIONS, True, False, "max-deactivations: 9 > 1")
    plan = Plan(datetime.now(UTC), (), (), (guard,), "0123456789abcdef")

    async def blocked() -> None:
        raise PlanBlockedError(plan)

    import typer
    from rich.console import Console

    out = io.StringIO()
    with pytest.raises(typer.Exit) as ended, redirect_stderr(io.StringIO()) as err:
        run_applying(blocked(), Console(file=out))
    assert ended.value.exit_code == ExitCode.BLOCKED
    assert "blocked: plan 0123456789ab is blocked" in err.getvalue()
    assert out.getvalue() == ""


@pytest.mark.parametrize("where", ["offboard.toml/s.sqlite3", "/proc/s.sqlite3"])
def test_a_store_path_that_cannot_be_created_is_a_store_error(
    config_file: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    path = config_file.parent / where  # an absolute `where` stays as it is
    monkeypatch.setenv("OFFBOARD_STORE__PATH", str(path))
    result = runner.invoke(app, ["--config", str(config_file), "plan"])
    assert result.exit_code == ExitCode.STORE, result.output
    assert f"store error: cannot create the store file {path}:" in result.output
    assert "internal error" not in result.output


def test_a_realm_keycloak_does_not_have_is_an_error_not_unreachable(
    world: World, runner: CliRunner
) -> None:
    text = world.config.read_text()
    world.config.write_text(text.replace('realm = "acme"', 'realm = "nope"'))
    code, output = world.run(runner, "plan")
    assert code == ExitCode.ERROR, output  # retrying later (exit 7) would never help
    assert "Keycloak has no realm 'nope'" in " ".join(output.split())
    assert "check keycloak.realm" in output
    assert "unreachable" not in output


@pytest.mark.slow  # the adapters retry a refused connection a few times before giving up
@pytest.mark.parametrize(
    ("side", "command"),
    [
        ("keycloak", ("report", "licences")),
        ("atlassian", ("report", "licences")),
        ("keycloak", ("licences", "plan")),
    ],
)
def test_a_licence_read_of_an_unreachable_vendor_exits_7_in_one_line(
    world: World, runner: CliRunner, side: str, command: tuple[str, ...]
) -> None:
    """As `plan` does: a monitor tells "cannot reach" from "report refused" by the code."""
    text = world.config.read_text(encoding="utf-8")
    world.config.write_text(text.replace(world.served.urls[side], "http://127.0.0.1:9"))
    code, output = world.run(runner, *command)
    assert code == ExitCode.UNREACHABLE, output
    assert output.startswith("unreachable: "), output
    assert "127.0.0.1" in output, output
    assert len(output.strip().splitlines()) == 1, output
    assert len(output) < 400, output  # the first problem, not one per page
