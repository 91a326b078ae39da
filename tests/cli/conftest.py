"""Fixtures for the command-line tests: a clean environment, a valid config, a runner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

VALID_TOML = """\
[keycloak]
base_url = "https://sso.example.com"
realm = "staff"
client_id = "offboard"

[atlassian]
org_id = "org-1"
"""


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No OFFBOARD_* variable leaks in from the developer's shell; cwd is a temp dir."""
    for name in list(os.environ):
        if name.startswith("OFFBOARD_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("COLUMNS", "200")  # rich tables unfolded, so assertions read whole words
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A valid configuration whose secrets come from the environment."""
    path = tmp_path / "offboard.toml"
    path.write_text(VALID_TOML, encoding="utf-8")
    monkeypatch.setenv("OFFBOARD_KEYCLOAK__CLIENT_SECRET", "kc-secret-value")
    monkeypatch.setenv("OFFBOARD_ATLASSIAN__API_KEY", "atl-key-value")
    return path
