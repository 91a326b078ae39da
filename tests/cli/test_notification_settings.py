"""`[notifications]`: secrets from the environment or files and never shown, safe URLs, a
signing key that is there and long enough, only known kinds."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from offboard.cli.exit_codes import ExitCode
from offboard.cli.main import app
from offboard.settings import load_settings

SLACK = "https://hooks.slack.example/services/T0/B0/very-secret-token"
KEY = "a-signing-key-of-at-least-32-characters!"


def add(config: Path, text: str) -> None:
    config.write_text(config.read_text() + "\n" + text, encoding="utf-8")


def test_urls_and_keys_come_from_the_environment_and_files_and_are_never_shown(
    config_file: Path, runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "signing-key"
    key_file.write_text(KEY + "\n")
    add(config_file, f'[notifications.webhook]\nsigning_key_file = "{key_file}"\n')
    monkeypatch.setenv("OFFBOARD_NOTIFICATIONS__SLACK__URL", SLACK)
    monkeypatch.setenv("OFFBOARD_NOTIFICATIONS__WEBHOOK__URL", "https://tickets.example/in")
    settings = load_settings(config_file)
    assert settings.notifications.configured == ["slack", "webhook"]
    assert settings.notifications.webhook.signing_key is not None
    assert settings.notifications.webhook.signing_key.get_secret_value() == KEY
    shown = runner.invoke(app, ["--config", str(config_file), "config", "show"])
    assert shown.exit_code == ExitCode.OK, shown.output
    for secret in ("very-secret-token", KEY, "tickets.example/in"):
        assert secret not in shown.output


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ('[notifications.webhook]\nurl = "https://x.example/in"\n', "signing_key: required"),
        ('[notifications.webhook]\nsigning_key = "short"\n', "at least 32 characters"),
        ('[notifications.slack]\nurl = "http://chat.example/hook"\n', "use https://"),
        ('[notifications.slack]\nkinds = ["hold", "gossip"]\n', "notifications.slack.kinds"),
        ('[notifications]\ncheck_every = "0s"\n', "check_every"),
        ('[notifications]\nconsole_url = "ftp://x"\n', "console_url"),
    ],
)
def test_unsafe_or_incomplete_channels_are_refused_with_the_key(
    config_file: Path, runner: CliRunner, section: str, problem: str
) -> None:
    add(config_file, section)
    result = runner.invoke(app, ["--config", str(config_file), "config", "show"])
    assert result.exit_code == ExitCode.CONFIG
    assert problem in result.output


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        (
            '[notifications.slack]\nurl = "hooks.slack.example/services/T0/B0/very-secret-token"',
            "notifications.slack.url: the URL (not shown: it holds a secret) is not an http(s) URL",
        ),
        (
            '[notifications.webhook]\nurl = "https://hooks.example/very-secret-token "\n'
            f'signing_key = "{KEY}"',
            "notifications.webhook.url: the URL (not shown: it holds a secret) has a blank",
        ),
    ],
)
def test_a_wrong_secret_url_is_refused_without_showing_it(
    config_file: Path, runner: CliRunner, section: str, problem: str
) -> None:
    # QA: a Slack webhook URL missing its https:// was printed whole, token and all.
    add(config_file, section)
    result = runner.invoke(app, ["--config", str(config_file), "config", "show"])
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert problem in " ".join(result.output.split())
    assert "very-secret-token" not in result.output
