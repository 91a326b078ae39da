"""Questions asked before acting: a routine yes/no, and a typed name to lift a guard.

A routine apply takes ``y``; lifting a guard takes its name typed out, so that a reflexive
``y`` cannot override a safety limit. Without a terminal nothing is asked: the command is
refused up front unless ``--yes`` says the caller already decided.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from rich.console import Console

from offboard.cli.errors import RefusedError


def require_confirmation_channel(yes: bool) -> None:
    """Refuse up front, before reading anything, when nobody could answer the question."""
    if not yes and not sys.stdin.isatty():
        raise RefusedError(
            "no terminal to confirm on (standard input is not a TTY): pass --yes to act "
            "without asking"
        )


def confirm(console: Console, question: str, *, yes: bool) -> None:
    """Ask ``question [y/N]``; ``--yes`` skips it; anything but y/yes declines."""
    if yes:
        return
    require_confirmation_channel(yes)
    # markup=False: rich would take "[y/N]" for a style tag and print nothing of it.
    answer = _answer(console, f"{question} [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise RefusedError("not confirmed; nothing was applied")


def confirm_overrides(console: Console, guards: Iterable[str], *, yes: bool) -> None:
    """Lifting a guard asks for the guard's name, typed exactly; ``--yes`` skips it."""
    if yes:
        return
    require_confirmation_channel(yes)
    for name in guards:
        answer = _answer(
            console, f"Lifting guard {name} for this run. Type its name to confirm: "
        ).strip()
        if answer != name:
            raise RefusedError(
                f"guard {name} not confirmed (its name was not typed); nothing applied"
            )


def _answer(console: Console, prompt: str) -> str:
    """One line typed at ``prompt``; end of input (Ctrl-D) is no answer, hence not "yes"."""
    try:
        return console.input(prompt, markup=False)
    except EOFError:
        console.print()  # end the prompt's line: the refusal goes on a line of its own
        return ""
