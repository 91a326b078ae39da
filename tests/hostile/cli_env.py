"""The command-line tests' clean environment, keeping the hostile-table report variable.

tests/cli's ``clean_env`` drops every ``OFFBOARD_*`` variable, ``OFFBOARD_HOSTILE_REPORT``
included, so the rows would never be recorded; this one keeps it.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

KEPT = frozenset({"OFFBOARD_HOSTILE_REPORT"})


@pytest.fixture(autouse=True)
def clean_cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No OFFBOARD_* configuration leaks in; state and cwd in a temp dir; wide tables."""
    for name in list(os.environ):
        if name.startswith("OFFBOARD_") and name not in KEPT:
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)


def config_secrets(config: Path) -> list[str]:
    """The secret values in a test's configuration, to look for in every output."""
    document = tomllib.loads(config.read_text(encoding="utf-8"))
    return [
        value
        for section in document.values()
        if isinstance(section, dict)
        for key, value in section.items()
        if isinstance(value, str) and ("secret" in key or "key" in key) and len(value) > 4
    ]
