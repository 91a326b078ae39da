"""Who is acting: ``--actor NAME``, else the operating-system user; journaled with each act."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

ActorOption = Annotated[
    str | None,
    typer.Option(
        "--actor", metavar="NAME", help="Who does this, for the journal (default: the OS user)."
    ),
]
ReasonOption = Annotated[
    str,
    typer.Option("--reason", "-r", metavar="TEXT", help="Why (required; journaled)."),
]


def actor_name(given: str | None) -> str:
    """The name to journal: the one given, else the login name of this process."""
    if given and given.strip():
        return given.strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
