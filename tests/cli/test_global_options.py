"""The global options refuse a value they would ignore (QA: `--log-level bogus` and
`--log-format xml` ran the command with logs at another level or format, without a word)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from offboard.cli.exit_codes import ExitCode
from offboard.cli.main import app


@pytest.mark.parametrize(
    ("option", "value", "accepted"),
    [
        ("--log-level", "bogus", "debug"),
        ("--log-level", "verbose", "warning"),
        ("--log-format", "xml", "console"),
    ],
)
def test_a_log_option_outside_its_choices_is_a_usage_error(
    runner: CliRunner, config_file: Path, option: str, value: str, accepted: str
) -> None:
    result = runner.invoke(app, ["--config", str(config_file), option, value, "config", "show"])
    assert result.exit_code == ExitCode.USAGE, result.output
    assert f"'{value}' is not one of" in result.output
    assert accepted in result.output


def test_a_log_level_in_capitals_is_the_same_level(runner: CliRunner, config_file: Path) -> None:
    result = runner.invoke(
        app, ["--config", str(config_file), "--log-level", "DEBUG", "config", "show"]
    )
    assert result.exit_code == 0, result.output


def test_the_help_lists_the_log_choices(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--help"])
    assert "debug|info|warning|error" in result.output
    assert "json|console" in result.output
