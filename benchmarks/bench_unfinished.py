"""Crash recovery's scan for unfinished intents against the size of the journal.

``recover()`` asks the store for intents without an outcome before every pass and every
wave of the daemon, and the journal is never pruned. For each size, a SQLite store holds
that many actions journaled in full (intent, outcome, read-back: seeded with plain SQL into
the store's own schema, which is quicker than the store's durable commits), then the first
scan (a process that just started) and five later ones, each after a wave of 30 actions.

    .venv/bin/python benchmarks/bench_unfinished.py --sizes 10000,100000,300000
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from offboard.store import open_store

INSERT = (
    "insert into journal (at, run_id, action_key, phase, status, kind, identity_id, account_id,"
    " email, rule, reason, http_status, detail, fingerprint)"
    " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
DONE = (("intent", "pending"), ("outcome", "succeeded"), ("readback", "verified"))
WAVE = 30


def _rows(first: int, last: int, phases: tuple[tuple[str, str], ...]) -> list[tuple[object, ...]]:
    return [
        ("2026-12-01 00:00:00.000000", f"run-{n // 100}", f"deactivate:id-{n}:acc-{n}", phase,
         status, "deactivate", f"id-{n}", f"acc-{n}", None, "leaver", "", None, "", "fp")
        for n in range(first, last)
        for phase, status in phases
    ]  # fmt: skip


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,300000")
    sizes = [int(size) for size in parser.parse_args().sizes.split(",")]
    path = Path(tempfile.mkdtemp()) / "state.db"
    open_store(path).close()  # the schema
    seeded = 0
    with sqlite3.connect(path) as raw:
        for size in sizes:
            raw.executemany(INSERT, _rows(seeded, size, DONE))
            raw.commit()
            seeded = size
            store = open_store(path)
            first = _timed(store.unfinished)
            later = []
            for wave in range(5):
                start = 10 * max(sizes) + wave * WAVE + size
                raw.executemany(INSERT, _rows(start, start + WAVE, DONE[:2]))
                raw.commit()
                later.append(_timed(store.unfinished))
            store.close()
            print(f"{size:>9,} actions journaled: first scan {first * 1000:6.1f} ms, "
                  f"each later scan (a wave of {WAVE} since) "
                  f"{min(later) * 1000:.1f} to {max(later) * 1000:.1f} ms", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
