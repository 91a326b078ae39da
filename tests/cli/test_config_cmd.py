"""`offboard config init|show|reference` and the generated configuration reference."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from offboard.cli.config_docs import reference_markdown
from offboard.cli.exit_codes import ExitCode
from offboard.cli.main import app
from offboard.settings import load_settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "reference"


def test_init_writes_a_loadable_commented_example(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "etc" / "offboard.toml"
    result = runner.invoke(app, ["--config", str(target), "config", "init"])
    assert result.exit_code == 0, result.output
    text = target.read_text(encoding="utf-8")
    assert "# The realm whose users are offboarded." in text
    monkeypatch.setenv("OFFBOARD_KEYCLOAK__CLIENT_SECRET", "s")
    monkeypatch.setenv("OFFBOARD_ATLASSIAN__API_KEY", "k")
    settings = load_settings(target)
    assert settings.keycloak.base_url == "https://sso.example.com"


def test_init_refuses_to_overwrite_without_force(runner: CliRunner, config_file: Path) -> None:
    before = config_file.read_text()
    result = runner.invoke(app, ["--config", str(config_file), "config", "init"])
    assert result.exit_code == ExitCode.ERROR
    assert "--force" in result.output
    assert config_file.read_text() == before
    forced = runner.invoke(app, ["--config", str(config_file), "config", "init", "--force"])
    assert forced.exit_code == 0
    assert config_file.read_text() != before


def test_show_redacts_secrets_and_shows_env_overrides(
    runner: CliRunner, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OFFBOARD_POLICY__GRACE_PERIOD", "1h")
    result = runner.invoke(app, ["--config", str(config_file), "config", "show"])
    assert result.exit_code == 0, result.output
    assert "kc-secret-value" not in result.output
    assert "atl-key-value" not in result.output
    assert 'client_secret = "**********"' in result.output
    assert 'grace_period = "1h"' in result.output
    assert "[policy.thresholds]" in result.output


def test_show_without_configuration_is_one_line_and_exit_4(runner: CliRunner) -> None:
    result = runner.invoke(app, ["config", "show"])
    assert result.exit_code == ExitCode.CONFIG
    assert "offboard config init" in result.output
    assert "Traceback" not in result.output


def test_show_with_invalid_values_lists_each_key(runner: CliRunner, config_file: Path) -> None:
    config_file.write_text(
        config_file.read_text() + "[daemon]\nlisten_port = 'x'\npoll_interval = 'often'\n"
    )
    result = runner.invoke(app, ["--config", str(config_file), "config", "show"])
    assert result.exit_code == ExitCode.CONFIG
    assert "daemon.listen_port:" in result.output
    assert "daemon.poll_interval:" in result.output


def test_config_reference_is_up_to_date() -> None:
    document = DOCS / "configuration.md"
    assert document.read_text(encoding="utf-8") == reference_markdown(), (
        "docs/reference/configuration.md is stale: run "
        "`offboard config reference > docs/reference/configuration.md`"
    )


def test_config_path_comes_from_the_environment(
    runner: CliRunner, config_file: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    moved = tmp_path / "elsewhere.toml"
    config_file.rename(moved)
    monkeypatch.setenv("OFFBOARD_CONFIG", str(moved))
    result = runner.invoke(app, ["config", "show"])
    assert result.exit_code == 0, result.output
    assert 'realm = "staff"' in result.output
