"""Crash recovery's scan for unfinished intents against the size of the journal.

``recover()`` asks the store for intents without an outcome before every pass and every
wave of the daemon, and the journal is never pruned. For each size, a SQLite store holds
that many actions journaled in full (intent, outcome, read-back: inserted in bulk through
the store's own schema, quicker than its durable commits one action at a time), then the
first scan (a process that just started) and five later ones, each after a wave of 30.

    .venv/bin/python benchmarks/bench_unfinished.py --sizes 10000,100000,300000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from offboard.core.journal import JournalRecord, Phase, Status
from offboard.store import SqlStore, open_store
from offboard.store.rows import journal_values
from offboard.store.schema import journal

Phases = tuple[tuple[Phase, Status], ...]
DONE: Phases = ((Phase.INTENT, Status.PENDING), (Phase.OUTCOME, Status.SUCCEEDED),
        (Phase.READBACK, Status.VERIFIED))  # fmt: skip
WAVE = 30
AT = datetime(2026, 12, 1, tzinfo=UTC)


def _journal(store: SqlStore, first: int, last: int, phases: Phases) -> None:
    """Actions ``first`` to ``last`` journaled in these phases, in one transaction."""
    records = [
        JournalRecord(AT, f"run-{n // 100}", f"deactivate:id-{n}:acc-{n}", phase, status,
                      kind="deactivate", identity_id=f"id-{n}", account_id=f"acc-{n}",
                      rule="leaver", fingerprint="fp")
        for n in range(first, last)
        for phase, status in phases
    ]  # fmt: skip
    with store.engine.begin() as connection:
        connection.execute(insert(journal), [journal_values(record) for record in records])


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--sizes", default="10000,100000,300000")
    sizes = [int(size) for size in parser.parse_args().sizes.split(",")]
    path = Path(tempfile.mkdtemp()) / "state.db"
    seeded = 0
    for size in sizes:
        store = open_store(path)  # a process that just started: its first scan is full
        _journal(store, seeded, size, DONE)
        seeded = size
        first = _timed(store.unfinished)
        later = []
        for wave in range(5):
            start = 10 * max(sizes) + wave * WAVE + size
            _journal(store, start, start + WAVE, DONE[:2])
            later.append(_timed(store.unfinished))
        store.close()
        print(f"{size:>9,} actions journaled: first scan {first * 1000:6.1f} ms, "
              f"each later scan (a wave of {WAVE} since) "
              f"{min(later) * 1000:.1f} to {max(later) * 1000:.1f} ms", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
