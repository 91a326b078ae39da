"""``OFFBOARD_*`` variables that name no setting are refused (QA finding M7).

The same typo in the TOML file was an error; in the environment it was silently ignored, so
a protection list could stay empty without a word.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from offboard.cli.exit_codes import ExitCode
from offboard.cli.main import app
from offboard.settings import ConfigError, Settings, load_settings
from offboard.settings.environment import NOT_SETTINGS, setting_names, unknown_variables


@pytest.mark.parametrize(
    ("variable", "suggestion"),
    [
        ("OFFBOARD_POLICY_PROTECTED_EMAILS", "did you mean OFFBOARD_POLICY__PROTECTED_EMAILS?"),
        ("OFFBOARD_POLCY__PROTECTED_EMAILS", "did you mean OFFBOARD_POLICY__PROTECTED_EMAILS?"),
        ("offboard_policy__protected_email", "did you mean OFFBOARD_POLICY__PROTECTED_EMAILS?"),
        ("OFFBOARD_XYZZY", "joined by two underscores"),
    ],
)
def test_a_variable_naming_no_setting_is_a_config_error(
    runner: CliRunner,
    config_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    suggestion: str,
) -> None:
    monkeypatch.setenv(variable, '["ceo@acme.example"]')
    result = runner.invoke(app, ["-c", str(config_file), "config", "show"])
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert f"{variable}: names no setting" in result.output
    assert suggestion in result.output
    assert "ceo@acme.example" not in result.output  # a value may be a secret


def test_every_setting_and_table_entry_is_accepted(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OFFBOARD_POLICY__PROTECTED_EMAILS", '["ceo@acme.example"]')
    monkeypatch.setenv("OFFBOARD_POLICY__ACTIONS__MANAGED", "suspend")
    monkeypatch.setenv("OFFBOARD_LICENCES__PRICES__JIRA-SOFTWARE", "8.6")
    monkeypatch.setenv("OFFBOARD_NOTIFICATIONS__EMAIL__SMTP__HOST", "mail.example.org")
    monkeypatch.setenv("OFFBOARD_DAEMON", '{"poll_interval": "2s"}')
    settings = load_settings(config_file)
    assert settings.policy.protected_emails == ["ceo@acme.example"]
    assert settings.policy.actions["managed"] == "suspend"  # type: ignore[index]
    assert settings.licences.prices == {"jira-software": 8.6}
    assert settings.notifications.email.smtp.host == "mail.example.org"
    names, _tables = setting_names(Settings)
    assert unknown_variables(Settings, names) == []  # every name the models have


@pytest.mark.parametrize(
    "variable",
    [
        *sorted(NOT_SETTINGS),
        "OFFBOARD_TEST_POSTGRES_URL",
        "OFFBOARD_TEST_KEYCLOAK_URL",
        # What Kubernetes injects for a Service named offboard / offboard-webhook.
        "OFFBOARD_SERVICE_HOST",
        "OFFBOARD_SERVICE_PORT",
        "OFFBOARD_SERVICE_PORT_HTTP",
        "OFFBOARD_PORT",
        "OFFBOARD_PORT_8080_TCP",
        "OFFBOARD_PORT_8080_TCP_ADDR",
        "OFFBOARD_WEBHOOK_SERVICE_HOST",
        "OFFBOARD_WEBHOOK_PORT_8443_TCP_PROTO",
    ],
)
def test_variables_that_are_not_settings_are_left_alone(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, "tcp://10.0.0.1:8080")
    assert load_settings(config_file).keycloak.realm == "staff"


def test_tooling_variables_alone_do_not_count_as_an_environment_configuration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With no ./offboard.toml, only real settings make 'configured by the environment'."""
    monkeypatch.setenv("OFFBOARD_TEST_POSTGRES_URL", "postgresql+psycopg://u@127.0.0.1/x")
    with pytest.raises(ConfigError, match="no configuration file"):
        load_settings()


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        # One item, no comma: the variable itself was not named, only OFFBOARD_POLICY__*.
        ("OFFBOARD_POLICY__DOMAINS", "acme.example", "OFFBOARD_POLICY__DOMAINS: not valid JSON"),
        (
            "OFFBOARD_LICENCES__PRICES",
            "jira=7",
            "OFFBOARD_LICENCES__PRICES: not valid JSON",
        ),
        # A section given a value: the message named OFFBOARD_KEYCLOAK__*, which was not set.
        (
            "OFFBOARD_KEYCLOAK",
            "sso.example.com",
            "OFFBOARD_KEYCLOAK: a section, not a setting: set its keys, e.g. "
            "OFFBOARD_KEYCLOAK__BASE_URL",
        ),
    ],
)
def test_a_structured_variable_that_is_not_json_is_named(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file)
    assert expected in str(caught.value)
    assert "__*" not in str(caught.value)
