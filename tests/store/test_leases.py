"""Lease exclusivity across threads and processes: exactly one holder wins each round."""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from multiprocessing import Queue
from pathlib import Path

from offboard.store import open_store

T0 = datetime(2026, 3, 1, tzinfo=UTC)
ROUNDS = 15


def _contend(path: str, holder: str, start: multiprocessing.synchronize.Event) -> list[int]:
    """Try every round's lease once; return the rounds this holder won."""
    store = open_store(path)
    start.wait()
    ttl = timedelta(hours=1)
    won = [n for n in range(ROUNDS) if store.acquire_lease(f"round-{n}", holder, ttl, T0)]
    store.close()
    return won


def _contend_in_child(
    path: str, holder: str, start: multiprocessing.synchronize.Event, results: Queue[object]
) -> None:
    results.put((holder, _contend(path, holder, start)))


def _winners_are_unique(wins: list[list[int]]) -> None:
    every_win = sorted(n for won in wins for n in won)
    assert every_win == list(range(ROUNDS)), "each round has exactly one winner"


def test_one_holder_per_lease_across_threads(tmp_path: Path) -> None:
    path = str(tmp_path / "leases.sqlite3")
    open_store(path).close()
    start = multiprocessing.Event()
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(_contend, path, f"thread-{i}", start) for i in range(4)]
        start.set()
        wins = [future.result() for future in futures]
    _winners_are_unique(wins)


def test_one_holder_per_lease_across_processes(tmp_path: Path) -> None:
    path = str(tmp_path / "leases.sqlite3")
    open_store(path).close()  # migrate once, before the contenders open it
    context = multiprocessing.get_context("spawn")
    start, results = context.Event(), context.Queue()
    children = [
        context.Process(target=_contend_in_child, args=(path, f"proc-{i}", start, results))
        for i in range(3)
    ]
    for child in children:
        child.start()
    start.set()
    wins = [results.get(timeout=60)[1] for _ in children]
    for child in children:
        child.join(timeout=60)
        assert child.exitcode == 0
    _winners_are_unique(wins)
