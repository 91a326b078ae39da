"""The confirmation prompts as a person sees them: a real terminal (pty) at 80 and 160 columns."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import sys
import termios
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from offboard.cli.demo import DOMAIN, person
from offboard.cli.exit_codes import ExitCode
from tests.cli.test_run_commands import World, linked, world

__all__ = ["linked", "world"]  # fixtures used below
pytestmark = pytest.mark.slow  # each test starts offboard in a terminal of its own
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


@dataclass
class Terminal:
    """offboard running in a pseudo-terminal of a given size."""

    pid: int
    fd: int
    seen: str = ""

    def expect(self, text: str, timeout: float = 90.0) -> str:
        """Read until ``text`` shows (ANSI codes removed); fail with what was seen."""
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"{text!r} never showed; the terminal showed:\n{self.seen}"
            ready, _, _ = select.select([self.fd], [], [], min(left, 1.0))
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:  # the child closed the terminal
                    chunk = b""
                if not chunk:
                    assert text in self.seen, f"{text!r} never showed:\n{self.seen}"
                self.seen += _ANSI.sub("", chunk.decode("utf-8", "replace"))
        return self.seen

    def type(self, line: str) -> None:
        os.write(self.fd, line.encode() + b"\r")

    def exit_code(self) -> int:
        self.expect_end()
        _, status = os.waitpid(self.pid, 0)
        return os.waitstatus_to_exitcode(status)

    def expect_end(self) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 1.0)
            if not ready:
                continue
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.seen += _ANSI.sub("", chunk.decode("utf-8", "replace"))


@pytest.fixture
def terminal_for(linked: World) -> Iterator[object]:
    started: list[Terminal] = []

    def start(columns: int, *args: str) -> Terminal:
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        env["TERM"] = "xterm"
        pid, fd = pty.fork()
        if pid == 0:  # the child: offboard on the terminal
            os.execve(sys.executable,  # noqa: S606 - a fixed argv, no shell involved
                      [sys.executable, "-m", "offboard", "--config", str(linked.config), *args],
                      env)  # fmt: skip
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
        terminal = Terminal(pid, fd)
        started.append(terminal)
        return terminal

    yield start
    for terminal in started:
        os.close(terminal.fd)


def _lines_fit(text: str, columns: int) -> bool:
    return all(len(line.rstrip("\r")) <= columns for line in text.splitlines())


@pytest.mark.parametrize("columns", [80, 160])
def test_the_question_shows_y_n_and_no_declines(
    linked: World, terminal_for: object, columns: int
) -> None:
    email = f"{person(7)}@{DOMAIN}"
    linked.disable(person(7))
    term = terminal_for(columns, "apply")  # type: ignore[operator]
    seen = term.expect("[y/N]")
    assert "Apply 1 actions? [y/N]" in seen
    assert email in seen  # whole, not folded
    assert _lines_fit(seen, columns)
    term.type("")
    assert term.exit_code() == ExitCode.REFUSED
    assert "not confirmed" in term.seen
    assert linked.account_status(email) == "active"


@pytest.mark.parametrize("columns", [80, 160])
def test_an_override_needs_the_guard_name_typed(
    linked: World, terminal_for: object, columns: int
) -> None:
    email = f"{person(8)}@{DOMAIN}"
    linked.disable(person(8))
    text = linked.config.read_text()
    linked.config.write_text(text + "\n[policy.thresholds]\nmax_deactivations = 0\n")
    term = terminal_for(columns, "apply", "--override-guard", "max-deactivations")  # type: ignore[operator]
    term.expect("Type its name to confirm:")
    term.type("y")  # a reflexive yes is not enough
    assert term.exit_code() == ExitCode.REFUSED
    assert "not confirmed" in term.seen
    assert linked.account_status(email) == "active"

    term = terminal_for(columns, "apply", "--override-guard", "max-deactivations")  # type: ignore[operator]
    term.expect("Type its name to confirm:")
    term.type("max-deactivations")
    term.expect("[y/N]")
    term.type("y")
    assert term.exit_code() == ExitCode.OK, term.seen
    assert linked.account_status(email) == "inactive"


def test_without_a_terminal_there_is_no_prompt(linked: World, tmp_path: Path) -> None:
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "offboard", "--config", str(linked.config), "apply"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == ExitCode.REFUSED
    assert "pass --yes" in done.stderr
    assert "[y/N]" not in done.stdout


@pytest.mark.parametrize(
    "command", [("apply",), ("cutoff", "now", f"{person(10)}@{DOMAIN}", "--reason", "qa")]
)
def test_ctrl_d_at_the_question_is_not_confirmed(
    linked: World, terminal_for: object, command: tuple[str, ...]
) -> None:
    email = f"{person(10)}@{DOMAIN}"
    linked.disable(person(10))
    term = terminal_for(80, *command)  # type: ignore[operator]
    term.expect("[y/N]")
    os.write(term.fd, b"\x04")  # Ctrl-D: end of input
    assert term.exit_code() == ExitCode.REFUSED, term.seen
    assert "not confirmed" in term.seen
    assert "internal error" not in term.seen
    assert linked.account_status(email) == "active"
