"""Output that reads well at any width: whole emails and ids, no wrapping into a pipe.

On a terminal, a table that does not fit drops its low-value columns first, then shortens
ids with an ellipsis; an email is never broken mid-word. Into a pipe or a file there is no
terminal width to respect, so lines are never wrapped (``grep`` sees whole rows).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

PIPE_WIDTH = 10_000
"""Width given to output that is not a terminal: wide enough that nothing wraps."""
SHORT_ID = 13
"""Ids are cut to this many characters (with a trailing …) when the table is too wide."""
ID_COLUMNS = frozenset({"keycloak id", "account", "run", "id", "fingerprint"})
_CELL_PADDING = 3  # rich's default table: one space each side and one border


def output_console(**options: Any) -> Console:
    """The console for a command's output: the terminal's width, or no wrapping in a pipe."""
    stream_is_tty = (sys.stderr if options.get("stderr") else sys.stdout).isatty()
    if not stream_is_tty and "COLUMNS" not in os.environ and "width" not in options:
        options["width"] = PIPE_WIDTH
    return Console(**options)


def fitted_table(
    title: str,
    rows: Sequence[dict[str, str]],
    width: int,
    *,
    keep: Sequence[str] = (),
    drop_first: Sequence[str] = (),
    headers: Sequence[str] = (),
) -> Table:
    """A table of ``rows`` (same keys in order) that fits ``width`` without breaking words.

    Columns not in ``keep`` are dropped when too wide, those in ``drop_first`` first, then
    from the right; then id columns are shortened with an ellipsis. ``headers`` names the
    columns of a table with no rows.
    """
    columns = list(rows[0]) if rows else list(headers)
    needed = {c: max([len(c), *(len(r[c]) for r in rows)]) + _CELL_PADDING for c in columns}
    droppable = [c for c in drop_first if c in columns and c not in keep]
    droppable += [c for c in reversed(columns) if c not in keep and c not in droppable]
    while sum(needed[c] for c in columns) > width and droppable:
        columns.remove(droppable.pop(0))
    shorten = sum(needed[c] for c in columns) > width
    table = Table(title=title, title_justify="left")
    for column in columns:
        is_id = column in ID_COLUMNS
        table.add_column(
            column,
            no_wrap=True,
            overflow="ellipsis" if is_id else "fold",
            max_width=SHORT_ID + 1 if shorten and is_id else None,
            min_width=None if is_id else min(needed[column] - _CELL_PADDING, width),
        )
    for row in rows:
        table.add_row(*(row[c] for c in columns))
    return table
