"""The console's history against a large journal: time per query, and peak memory.

Fills a fresh SQLite store with ``--records`` journal records (``--people`` people, a few
records each), then times the queries the console's pages make: the first page, a deep
page (keyset), a filter (outcome), a person by Keycloak id and by part of an email, and a
whole CSV export (streamed page by page). Prints one line per figure.

    .venv/bin/python benchmarks/bench_console_history.py --records 200000
"""

from __future__ import annotations

import argparse
import asyncio
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

from offboard.core.history import JournalQuery
from offboard.core.journal import JournalRecord, Phase, Status
from offboard.server.console.history import csv_lines
from offboard.store import SqlStore, open_store

T0 = datetime(2026, 1, 1, tzinfo=UTC)
STEPS = ((Phase.INTENT, Status.PENDING), (Phase.OUTCOME, Status.SUCCEEDED),
         (Phase.READBACK, Status.VERIFIED), (Phase.OUTCOME, Status.FAILED))  # fmt: skip


def fill(store: SqlStore, records: int, people: int) -> None:
    run = store.start_run("daemon", T0)
    batch: list[JournalRecord] = []
    for n in range(records):
        who = n % people
        phase, status = STEPS[n % len(STEPS)] if n % 97 else STEPS[3]
        batch.append(JournalRecord(
            at=T0 + timedelta(seconds=n), run_id=run, action_key=f"deactivate:id-{who}:acc-{who}",
            phase=phase, status=status if phase is not Phase.OUTCOME or n % 97 else Status.FAILED,
            kind="deactivate", identity_id=f"id-{who}", account_id=f"acc-{who}",
            email=f"person.{who}@example.com", rule="identity-disabled", detail="x" * 40,
        ))  # fmt: skip
        if len(batch) == 5000:
            store.append_all(batch)
            batch = []
    store.append_all(batch)


def timed(label: str, work: object, unit: str = "rows") -> None:
    started = time.perf_counter()
    found = work() if callable(work) else None
    took = (time.perf_counter() - started) * 1000
    count = len(found) if isinstance(found, list) else found
    print(f"{label:<38} {took:9.1f} ms   {count} {unit}")


async def export_size(store: SqlStore, query: JournalQuery) -> int:
    return sum([len(chunk) async for chunk in csv_lines(store.search_journal, query)])


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--people", type=int, default=20_000)
    options = parser.parse_args()
    with TemporaryDirectory() as folder:
        store = open_store(Path(folder) / "bench.sqlite3")
        started = time.perf_counter()
        fill(store, options.records, options.people)
        print(f"filled {options.records} records in {time.perf_counter() - started:.1f} s")
        middle = options.records // 2
        timed("first page (50)", lambda: store.search_journal(JournalQuery()))
        timed("deep page (50, keyset)", lambda: store.search_journal(JournalQuery(before=middle)))
        timed("outcome=failed (50)", lambda: store.search_journal(JournalQuery(status="failed")))
        timed("person by Keycloak id", lambda: store.search_journal(JournalQuery(person="id-77")))
        timed("person by part of email", lambda: store.search_journal(
            JournalQuery(person="person.77@")))  # fmt: skip
        timed("person with no match (full scan)", lambda: store.search_journal(
            JournalQuery(person="nobody@nowhere")))  # fmt: skip
        tracemalloc.start()
        timed("CSV export, every record", lambda: asyncio.run(
            export_size(store, JournalQuery())), "characters")  # fmt: skip
        _, peak = tracemalloc.get_traced_memory()
        print(f"{'CSV export peak Python memory':<38} {peak / 2**20:9.1f} MiB")
        store.close()


if __name__ == "__main__":
    main()
