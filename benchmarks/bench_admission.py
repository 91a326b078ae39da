"""The apply's one writer: what a commit of admissions costs the store.

An apply lets each action through with ``Store.admit`` (the lease held unexpired, a budget
slot spent, the intent journaled), and the admissions of concurrent actions share one
commit (``executor/group_commit.py``). At 50,000 people the apply was bound by this writer,
so its cost per commit is what decides how fast actions can leave. For each batch size this
prints, per commit (medians): the statements it makes, wall and CPU milliseconds (the wall includes
the disk flush of ``synchronous = FULL``), with two budget windows (an hour and a day), a
lease, and ``--spent`` slots already spent in the windows (the counts grow with them).

    .venv/bin/python benchmarks/bench_admission.py
    .venv/bin/python benchmarks/bench_admission.py --store postgresql+psycopg://.../empty_db
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event

from offboard.core.budget import WindowLimit
from offboard.core.holds import Admission, BudgetRequest, Waiting
from offboard.core.journal import JournalRecord, Phase, Status
from offboard.ports import Fence
from offboard.store import SqlStore, open_store

LIMITS = (
    WindowLimit("hour", timedelta(hours=1), 10**6, "a million actions"),
    WindowLimit("day", timedelta(days=1), 10**6, "a million actions"),
)
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def admission(n: int) -> Admission:
    """The n-th action's admission, 4 ms after the one before (an apply's pace)."""
    at = START + timedelta(milliseconds=4 * n)
    key = f"deactivate:{n:036d}:{n:024d}"
    intent = JournalRecord(
        at=at, run_id="r" * 32, action_key=key, phase=Phase.INTENT, status=Status.PENDING,
        fingerprint="f" * 64, kind="deactivate", identity_id=f"{n:036d}", account_id=f"{n:024d}",
    )  # fmt: skip
    waiting = Waiting(key, "deactivate", f"{n:036d}", f"{n:024d}", f"user{n}@example.com", at)
    return Admission(BudgetRequest("deprovisioning", waiting, "r" * 32, at, LIMITS), intent)


def measure(store: SqlStore, fence: Fence, size: int, commits: int, first: int) -> dict[str, float]:
    """Per commit of ``size`` admissions: statements, wall ms and CPU ms (medians)."""
    statements: list[int] = []
    event.listen(store.engine, "before_cursor_execute", lambda *_: statements.append(1))
    walls, cpus, made = [], [], []
    n = first
    for _ in range(commits):
        batch = [admission(n + i) for i in range(size)]
        n += size
        statements.clear()
        wall, cpu = time.perf_counter(), time.process_time()
        store.admit(batch, fence=fence, now=batch[0].intent.at)
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
        made.append(len(statements))
    return {
        "statements": statistics.median(made),
        "wall_ms": statistics.median(walls),
        "cpu_ms": statistics.median(cpus),
        "next": n,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--store", help="an empty database's URL; default a fresh SQLite file")
    parser.add_argument("--sizes", default="1,2,4,8,16", help="admissions per commit")
    parser.add_argument("--commits", type=int, default=200, help="commits per size")
    parser.add_argument("--spent", type=int, default=1000, help="slots spent in the windows first")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(args.store or Path(folder) / "offboard.sqlite3")
        try:
            run(store, [int(s) for s in args.sizes.split(",")], args.commits, args.spent)
        finally:
            store.close()


def run(store: SqlStore, sizes: list[int], commits: int, spent: int) -> None:
    assert store.acquire_lease("bench", "me", timedelta(days=30), START)
    token = store.lease_token("bench", "me", START)
    assert token is not None
    fence = Fence("bench", "me", token)
    n = 0
    for start in range(0, spent, 100):  # the history: slots already spent in the windows
        store.admit([admission(i) for i in range(start, min(spent, start + 100))], fence=fence)
        n = min(spent, start + 100)
    print("| admissions a commit | statements | wall ms | CPU ms | CPU ms an action |")
    print("|---:|---:|---:|---:|---:|")
    for size in sizes:
        figures = measure(store, fence, size, commits, n)
        n = int(figures["next"])
        print(
            f"| {size} | {figures['statements']:.0f} | {figures['wall_ms']:.2f} |"
            f" {figures['cpu_ms']:.2f} | {figures['cpu_ms'] / size:.2f} |"
        )


if __name__ == "__main__":
    main()
