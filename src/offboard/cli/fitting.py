"""Output that reads well at any width: whole emails and ids, no wrapping into a pipe.

On a terminal, a table that does not fit drops its low-value columns first, then shortens
ids with an ellipsis; an email is never broken mid-word. Into a pipe or a file there is no
terminal width to respect, so lines are never wrapped (``grep`` sees whole rows).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

PIPE_WIDTH = 10_000
"""Width given to output that is not a terminal: wide enough that nothing wraps."""
SHORT_ID = 9
"""Ids are cut to this many characters (the last an ellipsis) when the table is too wide."""
ID_COLUMNS = frozenset({"keycloak id", "account", "run", "id", "fingerprint"})
_CELL_PADDING = 3  # rich's default table: one space each side and one border


class OutputConsole(Console):
    """A console whose closed output (``offboard plan | head -1``) is an error to handle.

    rich's own reaction is ``SystemExit(1)``, which no handler sees: exit 1 without a word,
    while a ``typer.echo`` into the same closed pipe raised ``BrokenPipeError``. Raising it
    here too lets the root group end every format the same way (ExitCode.OUTPUT_CLOSED)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


def plain_console(**options: Any) -> Console:
    """A console that prints text as given (no markup, no emoji codes) at rich's width."""
    return OutputConsole(markup=False, emoji=False, **options)


def output_console(**options: Any) -> Console:
    """The console for a command's output: the terminal's width, or no wrapping in a pipe.

    Markup and emoji codes are off: emails, reasons and ids from users and vendors are
    printed as they are (":x:" or "[/]" in them must not become an emoji or a style)."""
    options.setdefault("markup", False)
    options.setdefault("emoji", False)
    stream_is_tty = (sys.stderr if options.get("stderr") else sys.stdout).isatty()
    if not stream_is_tty and "COLUMNS" not in os.environ and "width" not in options:
        options["width"] = PIPE_WIDTH
    return OutputConsole(**options)


Cell = str | Text
WRAPPED_MIN = 30
"""A column whose text may wrap between words counts as this wide when fitting."""


def _length(cell: Cell) -> int:
    return len(cell.plain if isinstance(cell, Text) else cell)


def fitted_table(
    title: str,
    rows: Sequence[Mapping[str, Cell]],
    width: int,
    *,
    keep: Sequence[str] = (),
    drop_first: Sequence[str] = (),
    headers: Sequence[str] = (),
    wrap: Sequence[str] = (),
) -> Table:
    """A table of ``rows`` (same keys in order) that fits ``width`` without breaking words.

    When too wide: the ``drop_first`` columns go, then ids are shortened with an ellipsis,
    then other columns not in ``keep`` go, from the right. ``headers`` names the
    columns of a table with no rows; columns in ``wrap`` (free text) wrap between words.
    """
    columns = list(rows[0]) if rows else list(headers)
    needed = {c: max([len(c), *(_length(r[c]) for r in rows)]) + _CELL_PADDING for c in columns}
    needed.update({c: min(needed[c], WRAPPED_MIN) for c in wrap if c in needed})
    ids = [c for c in columns if c in ID_COLUMNS]

    def too_wide() -> bool:
        return sum(needed[c] for c in columns) + 1 > width

    # Low-value columns go first, then ids are shortened, then other columns not kept go.
    shorten = False
    for column in [*drop_first, "(shorten ids)", *reversed(list(columns))]:
        if not too_wide():
            break
        if column == "(shorten ids)":
            shorten = True
            needed.update({c: min(needed[c], SHORT_ID + _CELL_PADDING) for c in ids})
        elif column in columns and column not in keep:
            columns.remove(column)
    table = Table(title=title, title_justify="left")
    for column in columns:
        is_id = column in ID_COLUMNS
        if column in wrap:
            table.add_column(column, overflow="fold", ratio=1)
            continue
        table.add_column(
            column,
            no_wrap=True,
            overflow="ellipsis" if is_id else "fold",
            max_width=SHORT_ID if shorten and is_id else None,
            min_width=None if is_id else min(needed[column] - _CELL_PADDING, width),
        )
    for row in rows:
        table.add_row(*(row[c] for c in columns))
    return table
