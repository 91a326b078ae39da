"""offboard ends without the interpreter's teardown (``offboard.cli.exits``), and loses
nothing by it: every line written, the exit code as ``sys.exit`` gives it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from offboard.cli import exits
from offboard.cli.main import app


def test_a_long_output_into_a_pipe_arrives_whole_with_its_code(runner: CliRunner) -> None:
    # Block-buffered stdout (a pipe) is flushed before os._exit: nothing is cut short.
    expected = runner.invoke(app, ["config", "reference"])
    assert expected.exit_code == 0
    done = subprocess.run(
        [sys.executable, "-m", "offboard", "config", "reference"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(done.stdout) > 20_000
    assert done.stdout == expected.stdout


def test_an_error_keeps_its_exit_code_and_its_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "offboard", "--config", "/nowhere/offboard.toml", "plan"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 4
    assert "no configuration file at /nowhere/offboard.toml" in done.stderr


@pytest.mark.parametrize(("code", "status"), [(None, 0), (0, 0), (3, 3), (-1, 255), (256, 0)])
def test_the_status_is_the_one_sys_exit_gives(code: int | None, status: int) -> None:
    done = subprocess.run([sys.executable, "-c", f"import sys; sys.exit({code})"], check=False)
    assert done.returncode == status
    assert exits._status(code) == status


def test_a_message_is_printed_and_the_status_is_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert exits._status("stopped: reason") == 1
    assert capsys.readouterr().err == "stopped: reason\n"


@pytest.fixture
def traced() -> Iterator[None]:
    previous = sys.gettrace()
    sys.settrace(lambda *_: None)
    try:
        yield
    finally:
        sys.settrace(previous)


@pytest.mark.usefixtures("traced")
def test_under_a_tracer_it_leaves_the_ordinary_way() -> None:
    # coverage, cProfile, pyinstrument write their results at exit: they must get to.
    with pytest.raises(SystemExit) as leaving:
        exits.leave_now(6)
    assert leaving.value.code == 6


def test_a_profiled_run_still_writes_its_profile(tmp_path: Path) -> None:
    profile = tmp_path / "version.prof"
    done = subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "offboard", "--version"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert profile.stat().st_size > 0
