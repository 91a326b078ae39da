"""A reader that stops early (`offboard plan | head -1`) ends every command the same way:
exit 141 (128 + SIGPIPE), nothing on stderr, whatever the format."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from offboard.cli.exit_codes import ExitCode
from offboard.store import open_store
from tests.cli.test_run_commands import World, world

__all__ = ["world"]  # a fixture used below


def _with_stdout_closed(*args: str) -> subprocess.CompletedProcess[str]:
    """Run offboard with a stdout pipe whose reader is already gone."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        return subprocess.run(
            [sys.executable, "-m", "offboard", *args],
            stdout=writer, stderr=subprocess.PIPE, text=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        os.close(writer)


@pytest.mark.parametrize("fmt", ["table", "json", "markdown"])
def test_plan_into_a_closed_pipe(world: World, fmt: str) -> None:
    done = _with_stdout_closed("--config", str(world.config), "plan", "--format", fmt)
    assert done.returncode == ExitCode.OUTPUT_CLOSED, done.stderr
    assert done.stderr == ""


@pytest.mark.parametrize("args", [("config", "reference"), ("journal", "list"),
                                  ("journal", "runs", "--format", "json")])  # fmt: skip
def test_other_commands_into_a_closed_pipe(tmp_path: Path, args: tuple[str, ...]) -> None:
    store = tmp_path / "s.sqlite3"
    opened = open_store(store)
    opened.finish_run(opened.start_run("plan", datetime.now(UTC)), datetime.now(UTC), "planned", {})
    opened.close()
    done = _with_stdout_closed(*args, *(["--store", str(store)] if args[0] == "journal" else []))
    assert done.returncode == ExitCode.OUTPUT_CLOSED, done.stderr
    assert done.stderr == ""
