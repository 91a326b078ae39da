"""`offboard notify test`: one test message per configured channel, real receivers on
127.0.0.1 (SMTP with STARTTLS and AUTH, HTTP), secrets from the environment and never shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from offboard.cli.exit_codes import ExitCode
from offboard.cli.main import app
from tests.notify_servers import (
    SMTP_PASSWORD,
    SMTP_USER,
    http_receiver,
    make_certificate,
    smtp_server,
)

SIGNING_KEY = "cli-signing-key-0123456789abcdef-012345"
CHANNELS = ("email:", "slack:", "webhook:")


def test_each_channel_gets_a_test_message_and_a_failing_one_is_named(
    config_file: Path, runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = make_certificate(tmp_path)
    with smtp_server((cert, key)) as (inbox, port), http_receiver() as (http, url):
        config_file.write_text(
            config_file.read_text()
            + f"""
[notifications]
console_url = "https://offboard.example.com"

[notifications.email]
to = ["iam@example.com"]

[notifications.email.smtp]
host = "127.0.0.1"
port = {port}
username = "{SMTP_USER}"
ca_bundle = "{cert}"
"""
        )
        monkeypatch.setenv("OFFBOARD_NOTIFICATIONS__EMAIL__SMTP__PASSWORD", SMTP_PASSWORD)
        monkeypatch.setenv("OFFBOARD_NOTIFICATIONS__SLACK__URL", url + "/slack/secret-path")
        monkeypatch.setenv("OFFBOARD_NOTIFICATIONS__WEBHOOK__URL", url + "/signed")
        monkeypatch.setenv("OFFBOARD_NOTIFICATIONS__WEBHOOK__SIGNING_KEY", SIGNING_KEY)
        result = runner.invoke(app, ["--config", str(config_file), "notify", "test"])
        assert result.exit_code == ExitCode.OK, result.output
        said = [line for line in result.output.splitlines() if line.startswith(CHANNELS)]
        assert said == ["email: sent", "slack: sent", "webhook: sent"]  # the server logs too
        assert len(inbox.envelopes) == 1
        assert sorted(r.path for r in http.got) == ["/signed", "/slack/secret-path"]
        assert json.loads(http.on("/signed")[0].body)["kind"] == "test"
        assert "Console: https://offboard.example.com" in inbox.mails[0].get_payload()

        http.statuses = [403]
        only = runner.invoke(app, ["--config", str(config_file), "notify", "test",
                                   "--channel", "slack"])  # fmt: skip
    assert only.exit_code == ExitCode.ERROR
    assert "slack: failed: slack webhook: HTTP 403" in only.output
    for secret in ("secret-path", SMTP_PASSWORD, SIGNING_KEY):
        assert secret not in result.output + only.output


def test_no_channel_configured_is_an_error_with_the_how_to(
    config_file: Path, runner: CliRunner
) -> None:
    result = runner.invoke(app, ["--config", str(config_file), "notify", "test"])
    assert result.exit_code == ExitCode.ERROR  # as --help says
    assert "error: no channel is configured: see [notifications]" in result.output
    assert "docs/howto/notifications.md" in result.output
    result = runner.invoke(app, ["--config", str(config_file), "notify", "test", "--channel",
                                 "slack"])  # fmt: skip
    assert result.exit_code == ExitCode.ERROR
    assert "error: the slack channel is not configured" in result.output


def test_an_unknown_channel_is_a_usage_error_listing_the_names(
    config_file: Path, runner: CliRunner
) -> None:
    result = runner.invoke(app, ["--config", str(config_file), "notify", "test", "--channel",
                                 "pigeon"])  # fmt: skip
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "pigeon" in result.output
    for name in ("email", "slack", "webhook"):
        assert name in result.output
