"""How a run that did not finish is closed in the store: interrupted, or failed with why."""

from __future__ import annotations

import asyncio

from offboard.executor.sending import describe

INTERRUPTIONS = (asyncio.CancelledError, KeyboardInterrupt)
"""Ctrl-C, a stop signal, a daemon shutting down: not an error, the run was stopped."""


def run_ending(error: BaseException) -> tuple[str, dict[str, object]]:
    """The status and summary to store for a run that ``error`` ended.

    An interruption is said as such ("interrupted"), not as "unexpected CancelledError":
    nothing went wrong, and the next run completes what was journaled."""
    if isinstance(error, INTERRUPTIONS):
        return "cancelled", {"interrupted": True}
    return "failed", {"error": describe(error)}
