"""A configuration file offboard may not read is a configuration error (4), like a missing
one or a folder, not a usage error (QA: click's own readability check answered 64, "Invalid
value for '--config'", before offboard could say why and what to do)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from offboard.cli.exit_codes import ExitCode
from offboard.cli.main import app


def test_an_unreadable_configuration_is_a_configuration_error(
    runner: CliRunner, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Mode 000 does not stop root, who runs the suite in CI: the denial is simulated where
    # a non-root user meets it (the access check, then the read).
    real_access, real_read = os.access, Path.read_text

    def access(path: Any, mode: int, **kwargs: Any) -> bool:
        return False if Path(path) == config_file else real_access(path, mode, **kwargs)

    def read_text(path: Path, *args: Any, **kwargs: Any) -> str:
        if path == config_file:
            raise PermissionError(13, "Permission denied", str(path))
        return real_read(path, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(Path, "read_text", read_text)
    result = runner.invoke(app, ["--config", str(config_file), "config", "show"])
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert f"cannot read {config_file}: Permission denied" in result.output
