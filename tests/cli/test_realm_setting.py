"""keycloak.realm becomes a URL path segment: empty or with a slash it is refused up front."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from offboard.cli.exit_codes import ExitCode
from offboard.cli.main import app
from offboard.settings import ConfigError, load_settings


@pytest.mark.parametrize("realm", ["", "  ", "acme/admin", "/acme"])
def test_an_empty_or_slashed_realm_is_a_configuration_error(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, realm: str
) -> None:
    monkeypatch.setenv("OFFBOARD_KEYCLOAK__REALM", realm)
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file)
    assert "keycloak.realm:" in str(caught.value)
    assert "not a realm name" in str(caught.value)


def test_the_command_line_exits_4_before_contacting_anyone(
    config_file: Path, runner: CliRunner
) -> None:
    config_file.write_text(config_file.read_text().replace('realm = "staff"', 'realm = ""'))
    result = runner.invoke(app, ["--config", str(config_file), "plan"])
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert "keycloak.realm:" in result.output
