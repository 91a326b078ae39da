"""A plan a guard blocks says so on stderr (exit 3); stdout holds the plan alone."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from offboard.cli.demo import person
from offboard.cli.exit_codes import ExitCode
from offboard.cli.main import app
from tests.cli.test_run_commands import World, linked, world

__all__ = ["linked", "world"]  # fixtures used below


@pytest.mark.parametrize("fmt", ["json", "table", "markdown", "text"])
def test_the_blocked_diagnostic_goes_to_stderr(
    linked: World, runner: CliRunner, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    monkeypatch.setenv("OFFBOARD_POLICY__THRESHOLDS__MAX_DEACTIVATIONS", "0")
    linked.disable(person(21))
    result = runner.invoke(app, ["--config", str(linked.config), "plan", "--format", fmt])
    assert result.exit_code == ExitCode.BLOCKED, result.output
    assert result.stderr.startswith("blocked: plan ")
    assert "--override-guard max-deactivations" in " ".join(result.stderr.split())
    assert "blocked: plan" not in result.stdout
    if fmt == "json":
        assert json.loads(result.stdout)["guards"]  # still one JSON document
