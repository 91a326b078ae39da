"""End of input (Ctrl-D) at a question is "not confirmed", never an internal error."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from offboard.cli.errors import RefusedError, explain
from offboard.cli.exit_codes import ExitCode
from offboard.cli.prompts import confirm, confirm_overrides


class _ClosedTerminal(io.StringIO):
    """A terminal whose user pressed Ctrl-D: a TTY with nothing left to read."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def closed_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", _ClosedTerminal(""))


@pytest.mark.usefixtures("closed_terminal")
def test_eof_at_the_yes_no_question_declines() -> None:
    out = io.StringIO()
    with pytest.raises(RefusedError) as raised:
        confirm(Console(file=out), "Apply 1 actions?", yes=False)
    assert explain(raised.value)[1] == ExitCode.REFUSED
    assert "not confirmed" in str(raised.value)
    assert out.getvalue().endswith("[y/N] \n")  # the refusal starts a line of its own


@pytest.mark.usefixtures("closed_terminal")
def test_eof_at_a_guard_name_declines() -> None:
    with pytest.raises(RefusedError, match="not confirmed"):
        confirm_overrides(Console(file=io.StringIO()), ["max-deactivations"], yes=False)
