"""Intents without an outcome, found without reading the whole journal each time.

Crash recovery asks for them before every pass and every wave of the daemon. The journal is
never pruned, and a scan of every intent ever written grew with it: 9 ms at 10,000
journaled actions, 88 ms at 100,000, 268 ms at 300,000, on the event loop, before each wave.

A scan remembers a watermark: the lowest ``seq`` of an intent it found unsettled, or past
the last row it saw when none was. Every intent below it is settled for good (an outcome
or recovery record is only ever added, never removed), so the next scan starts there: it
reads the records of the runs still in flight and those since, not the years before.

What the watermark may not pass is a row not yet committed. On SQLite none can appear below
it: one writer at a time takes the next ``seq`` and commits before the next writer starts.
On PostgreSQL a sequence hands out numbers outside transactions, so a transaction paused
between its insert and its commit can make an intent appear below rows already seen. So the
watermark is read before the scan (nothing committed after that read is skipped), and every
``FULL_SCAN_SECONDS`` a scan starts from the beginning again: a late intent is found by the
next full scan at the latest, as crash recovery finds a crash's intents at the next run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.sql import Select

from offboard.core.journal import JournalRecord, Phase
from offboard.store import rows
from offboard.store.schema import journal

FULL_SCAN_SECONDS = 600.0
"""How often a scan reads every intent again, for an intent that committed late."""


class UnfinishedScan:
    """``Store.unfinished`` of one store object, with its watermark (thread-safe)."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.monotonic = monotonic
        self.settled_below = 0
        """Every intent with a lower ``seq`` has an outcome or a recovery record."""
        self._full_scan_at: float | None = None
        self._lock = threading.Lock()

    def __call__(self, engine: Engine) -> list[JournalRecord]:
        now = self.monotonic()
        with self._lock:
            full = self._full_scan_at is None or now - self._full_scan_at >= FULL_SCAN_SECONDS
            start = 0 if full else self.settled_below
        with engine.connect() as connection:
            # First the last row committed, then the scan: a row committed in between has a
            # greater seq, so the watermark below cannot pass it.
            last = connection.scalar(select(func.max(journal.c.seq))) or 0
            found = [rows.journal_from(row._mapping) for row in connection.execute(_query(start))]
        watermark = min((r.seq for r in found if r.seq is not None), default=last + 1)
        with self._lock:
            if full:
                self._full_scan_at = now
                self.settled_below = watermark  # a full scan may also move it back (late row)
            else:
                self.settled_below = max(self.settled_below, watermark)
        return found


def _query(start: int) -> Select[Any]:
    """Intents from ``seq`` ``start`` on with no later outcome or recovery of their action."""
    later = journal.alias("later")
    settled = exists().where(
        later.c.run_id == journal.c.run_id,
        later.c.action_key == journal.c.action_key,
        later.c.phase.in_([Phase.OUTCOME.value, Phase.RECOVERED.value]),
        later.c.seq > journal.c.seq,
    )
    return (
        select(journal)
        .where(journal.c.seq >= start, journal.c.phase == Phase.INTENT.value, ~settled)
        .order_by(journal.c.seq)
    )
