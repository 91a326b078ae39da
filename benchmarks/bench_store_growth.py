"""offboard after a year in production: what the daemon adds to its store, and what it costs.

A steady realm (nothing changes between passes) with what a real one has: people locked
out who did not leave (``enabled:false`` as Keycloak before 26.4 reads them), org admins
whose Keycloak user is disabled (protected: blocked for a human at every pass), Keycloak
users with no Atlassian account, and Atlassian accounts with no Keycloak user. Both
emulators run in their own processes on loopback sockets; the daemon is assembled as
``offboard run`` assembles it (``cli.run.assemble``) on a fresh SQLite store with everyone
linked, takes the lease, and runs its passes in this process:

* **growth**: rows and bytes (SQLite's ``dbstat``: the payload, and the pages of each table
  with its indexes) that one full pass, one wave re-check and one daily licence check add,
  per table, averaged over ``--passes``; and the extrapolation to a year at the defaults
  (96 full passes a day, ``--waves-per-day`` re-checks, one licence check);
* **queries**: a store filled with a year of those rows (copies of the measured ones, with
  their times spread over the year), and the time of each query the daemon and the console
  make at each pass or page load;
* **retention**: that year pruned as the daemon's leader prunes it (``store.retention``,
  30 days by default): batches, time, what is left, and the queries timed again;
* **memory**: ``--memory-passes`` full passes (each followed by a wave), traced: Python's
  allocated memory after the first ten passes and after the last, and the RSS.

    .venv/bin/python benchmarks/bench_store_growth.py --people 10000 --passes 10
    .venv/bin/python benchmarks/bench_store_growth.py --people 50000 --passes 3 --no-memory
    .venv/bin/python benchmarks/bench_store_growth.py --people 1000 --memory-passes 300 \
        --no-year
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import json
import resource
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _harness import (
    DIRECTORY,
    DOMAIN,
    LOOPBACK,
    ORG_ID,
    World,
    atlassian_parts,
    child_process,
    keycloak_state,
    seed_links,
    sides_toml,
)

PASSES_PER_DAY = 96
"""``daemon.reconcile_interval`` = 15 minutes."""
LOCKED_EVERY = 2000
"""Every 2,000th person (offset 1,000) is locked out by brute-force detection, not gone."""
PROTECTED = 3
"""Org admins whose Keycloak user is disabled: blocked for a human at every pass."""
NO_ACCOUNT = 20
"""Keycloak users with no Atlassian account (contractors, service desks)."""
NO_KEYCLOAK = 20
"""Atlassian accounts of the verified domain with no Keycloak user (old, never linked)."""
ORG_ADMIN = "atlassian/org-admin"


def hazards(people: int) -> dict[str, list[int]]:
    locked = list(range(LOCKED_EVERY // 2, people, LOCKED_EVERY))
    protected = list(range(7, people, max(people // PROTECTED, 1)))[:PROTECTED]
    return {"locked": locked, "protected": protected}


def _serve_keycloak(port: int, people: int, manifest: str) -> None:
    import uvicorn

    from offboard_emulators.keycloak.app import create_app
    from offboard_emulators.keycloak.login import LoginFailures
    from offboard_emulators.keycloak.seed import add_bulk_users

    state, world = keycloak_state(people, people + 1)  # no leavers: a steady realm
    add_bulk_users(state.realm, NO_ACCOUNT, prefix="contractor", domain=DOMAIN)
    now = state.realm.now_ms()
    marked = hazards(people)
    for n in marked["locked"]:
        state.logins.failures[world.identity_ids[n]] = LoginFailures(30, now, now + 10**10, 1)
    state.realm.lockout_reports_disabled = True  # 26.3-era reads: locked shows enabled:false
    for n in marked["protected"]:
        state.realm.user(world.identity_ids[n]).enabled = False
    Path(manifest).write_text(json.dumps(world.__dict__))
    uvicorn.run(create_app(state), host=LOOPBACK, port=port, log_level="warning",
                access_log=False)  # fmt: skip


def _serve_atlassian(port: int, people: int, manifest: str) -> None:
    import uvicorn

    from offboard_emulators.atlassian.app import create_app
    from offboard_emulators.atlassian.fixture import generate_accounts

    parts, ids = atlassian_parts(people)
    generate_accounts(parts.state, ORG_ID, NO_KEYCLOAK, domain=DOMAIN, directory_id=DIRECTORY,
                      prefix="former-")  # fmt: skip
    for n in hazards(people)["protected"]:
        parts.state.account(ids[n]).platform_roles = [ORG_ADMIN]
    Path(manifest).write_text(json.dumps(ids))
    uvicorn.run(create_app(parts=parts), host=LOOPBACK, port=port, log_level="warning",
                access_log=False)  # fmt: skip


def config_file(folder: Path, kc_url: str, at_url: str, store: Path) -> Path:
    """The defaults, but for the sides, the domain and a daily licence check."""
    text = (
        sides_toml(kc_url, at_url)
        + f"""
[licences]
daily_at = "03:00"

[store]
path = "{store}"
"""
    )
    path = folder / "offboard.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- the store's figures --------------------------------------------------------------


@dataclass(frozen=True)
class TableFigures:
    rows: int
    payload: int
    """Bytes of the table's and its indexes' records (``dbstat`` payload)."""
    pages: int
    """Bytes of the pages the table and its indexes take."""


def table_figures(path: Path) -> dict[str, TableFigures]:
    """Per table (its indexes counted with it): rows, payload bytes, page bytes."""
    with sqlite3.connect(path) as db:
        owner = dict(db.execute("SELECT name, tbl_name FROM sqlite_schema WHERE type IN "
                                "('table', 'index')").fetchall())  # fmt: skip
        sizes: dict[str, list[int]] = {}
        for name, payload, pages in db.execute(
            "SELECT name, SUM(payload), SUM(pgsize) FROM dbstat GROUP BY name"
        ):
            table = owner.get(name, name)
            if table.startswith("sqlite_"):
                continue
            sizes.setdefault(table, [0, 0])
            sizes[table][0] += payload
            sizes[table][1] += pages
        return {
            table: TableFigures(count(db, table), payload, pages)
            for table, (payload, pages) in sorted(sizes.items())
        }


def count(db: sqlite3.Connection, table: str) -> int:
    """Rows of a table named by ``sqlite_schema`` (not by a user)."""
    return int(db.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0])  # noqa: S608


def added(before: dict[str, TableFigures], after: dict[str, TableFigures], times: int = 1
          ) -> dict[str, tuple[float, float]]:  # fmt: skip
    """Per table: rows and payload bytes added, per time."""
    grown = {}
    for table, now in after.items():
        then = before.get(table, TableFigures(0, 0, 0))
        rows, payload = (now.rows - then.rows) / times, (now.payload - then.payload) / times
        if rows or payload:
            grown[table] = (rows, payload)
    return grown


def print_added(label: str, grown: dict[str, tuple[float, float]]) -> None:
    print(f"\n{label}")
    if not grown:
        print("  (nothing)")
    for table, (rows, payload) in grown.items():
        print(f"  {table:<22} {rows:+9.1f} rows {payload:+12,.0f} bytes")
    rows = sum(r for r, _ in grown.values())
    payload = sum(p for _, p in grown.values())
    print(f"  {'all tables':<22} {rows:+9.1f} rows {payload:+12,.0f} bytes")


def file_bytes(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("PRAGMA page_count").fetchone()[0]) * int(
            db.execute("PRAGMA page_size").fetchone()[0]
        )


# --- the daemon, assembled as `offboard run` assembles it -------------------------------


async def assembled(config: Path, stack: AsyncExitStack) -> Any:
    from offboard.cli.run import assemble
    from offboard.settings import load_settings

    settings = load_settings(config, require_file=True)
    assembly = await assemble(settings, stack)
    daemon = assembly.daemon
    daemon.lease.settle(daemon.lease.ask())
    assert daemon.lease.held, "the benchmark's daemon did not take the lease"
    return daemon


async def one_wave(daemon: Any, identity_id: str) -> Any:
    from offboard.core.identities import IdentityId
    from offboard.ports import IdentityEvent

    now = daemon.clock.now()
    event = IdentityEvent(IdentityId(identity_id), f"ev-{now.timestamp()}", now,
                          "admin:USER:UPDATE")  # fmt: skip
    return await daemon._wave({IdentityId(identity_id): [event]})


@dataclass
class Growth:
    full: dict[str, tuple[float, float]]
    wave: dict[str, tuple[float, float]]
    licence: dict[str, tuple[float, float]]
    full_file_bytes: float


async def measure_growth(daemon: Any, store: Path, world: World, passes: int) -> Growth:
    first = await daemon.reconcile_once()  # links, baselines: what a first pass leaves
    print(f"first pass: {first.counts}, complete={first.complete}")
    await daemon.reconcile_once()
    before, size = table_figures(store), file_bytes(store)
    for _ in range(passes):
        await daemon.reconcile_once()
    full = added(before, table_figures(store), passes)
    full_file = (file_bytes(store) - size) / passes
    before = table_figures(store)
    waves = 10
    for n in range(waves):
        await one_wave(daemon, world.identity_ids[100 + n])
    wave = added(before, table_figures(store), waves)
    before = table_figures(store)
    assert daemon.daily is not None
    await daemon.daily.check()
    licence = added(before, table_figures(store))
    return Growth(full, wave, licence, full_file)


def year(growth: Growth, waves_per_day: int) -> dict[str, tuple[float, float]]:
    totals: dict[str, list[float]] = {}
    for part, times in ((growth.full, PASSES_PER_DAY * 365), (growth.wave, waves_per_day * 365),
                        (growth.licence, 365)):  # fmt: skip
        for table, (rows, payload) in part.items():
            totals.setdefault(table, [0.0, 0.0])
            totals[table][0] += rows * times
            totals[table][1] += payload * times
    return {table: (rows, payload) for table, (rows, payload) in totals.items()}


# --- a year of rows, and the queries on it -----------------------------------------------


def fill_year(source: Path, target: Path, days: int, waves_per_day: int) -> None:
    """``target``: ``source`` plus copies of its last full pass's rows (run, plan,
    snapshots) and last wave's (run, plan), spread over ``days`` days back from now."""
    with sqlite3.connect(source) as original, sqlite3.connect(target) as copy:
        original.backup(copy)  # the WAL's pages too
    db = sqlite3.connect(target)
    last_full = db.execute("SELECT id FROM runs WHERE kind='daemon' ORDER BY started_at DESC "
                           "LIMIT 1").fetchone()[0]  # fmt: skip
    last_wave = db.execute(
        "SELECT id FROM runs WHERE kind='wave' ORDER BY started_at DESC LIMIT 1"
    ).fetchone()
    snaps = db.execute("SELECT side, kind, count, complete, user_count, problems FROM snapshots "
                       "ORDER BY id DESC LIMIT 2").fetchall()  # fmt: skip
    now = datetime.now(UTC)
    runs = []
    for kind, run, per_day in (
        ("daemon", last_full, PASSES_PER_DAY),
        ("wave", last_wave[0] if last_wave else None, waves_per_day),
    ):
        if run is None:
            continue
        summary, fingerprint, document = db.execute(
            "SELECT summary, fingerprint, document FROM runs JOIN plans ON plans.run_id = runs.id"
            " WHERE runs.id = ?", (run,)).fetchone()  # fmt: skip
        for n in range(days * per_day):
            at = now - timedelta(days=days) + timedelta(days=n / per_day)
            runs.append((f"{kind[:2]}{n:08d}{'0' * 22}", kind, at, summary, fingerprint, document))
    runs.sort(key=lambda row: row[2])
    for start in range(0, len(runs), 5000):
        chunk = runs[start : start + 5000]
        db.executemany("INSERT INTO runs (id, kind, started_at, finished_at, status, summary) "
                       "VALUES (?, ?, ?, ?, 'applied', ?)",
                       [(i, k, _stored(at), _stored(at), s)
                        for i, k, at, s, _, _ in chunk])  # fmt: skip
        db.executemany("INSERT INTO plans (run_id, fingerprint, document) VALUES (?, ?, ?)",
                       [(i, f, d) for i, _, _, _, f, d in chunk])  # fmt: skip
        fulls = [(at, row) for i, k, at, *_ in chunk if k == "daemon" for row in snaps]
        db.executemany(
            "INSERT INTO snapshots (side, kind, taken_at, count, complete, "
            "user_count, problems) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(r[0], r[1], _stored(at), *r[2:]) for at, r in fulls],
        )
        db.commit()  # fmt: skip
    # The runs just copied are older than the store's own: its newest stay the newest.
    db.close()


def _stored(at: datetime) -> str:
    """A time as SQLAlchemy keeps it in SQLite."""
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def timed(label: str, work: Callable[[], object], repeat: int = 5) -> float:
    work()  # warm the page cache, as a daemon's repeated queries find it
    started = time.perf_counter()
    for _ in range(repeat):
        found = work()
    took = (time.perf_counter() - started) * 1000 / repeat
    shown = len(found) if isinstance(found, list) else "-" if found is None else "1"
    print(f"  {label:<44} {took:9.2f} ms   ({shown})")
    return took


def time_queries(path: Path) -> None:
    from offboard.core.history import JournalQuery
    from offboard.server.console.blocked import BlockedReader
    from offboard.service.status import DaemonStatus
    from offboard.store import open_store
    from offboard.store.operator_requests import StoredRequests

    store = open_store(path)
    try:
        newest_full = next(r for r in store.runs(limit=50) if r.kind == "daemon")
        print(f"  ({file_bytes(path) / 2**20:,.0f} MiB; runs {store_count(path, 'runs'):,}, "
              f"plans {store_count(path, 'plans'):,}, "
              f"snapshots {store_count(path, 'snapshots'):,})")  # fmt: skip
        timed("last_snapshot(keycloak) (every pass)", lambda: store.last_snapshot("keycloak"))
        timed("last_snapshot(atlassian)", lambda: store.last_snapshot("atlassian"))
        timed("plan_document(newest full run)", lambda: store.plan_document(newest_full.id))
        timed("runs(limit=30) (console front page)", lambda: store.runs(limit=30))
        timed("journal runs --limit 20", lambda: store.runs(limit=20))
        timed(
            "journal show PREFIX (runs_starting)", lambda: store.runs_starting(newest_full.id[:8])
        )
        timed("unfinished() (every applying pass)", store.unfinished)
        timed("journal(since=1 h ago) (every apply)", lambda: store.journal(
            since=datetime.now(UTC) - timedelta(hours=1)))  # fmt: skip
        timed("console history, first page", lambda: store.search_journal(JournalQuery()))
        timed("operator requests, recent 20", lambda: StoredRequests(store.engine).recent(20))

        class _Status:
            last_full = None

        def blocked() -> object:
            reader = BlockedReader(store, store.plan_document)  # a fresh one: no cache
            return reader.latest(_Status())  # type: ignore[arg-type]

        del DaemonStatus
        timed("console blocked people (latest full plan)", blocked)
    finally:
        store.close()


def prune_as_the_daemon(path: Path, retention: timedelta) -> None:
    """``service.pruning``'s batches, one after another (the daemon pauses between them)."""
    from offboard.store import open_store
    from offboard.store.retention import Pruned, prune_step

    before = table_figures(path)
    store = open_store(path)
    total, steps, longest = Pruned(), 0, 0.0
    started = time.perf_counter()
    try:
        while True:
            now = datetime.now(UTC)
            began = time.perf_counter()
            step = prune_step(store.engine, now - retention, now)
            longest = max(longest, time.perf_counter() - began)
            if not step:
                break
            total, steps = total + step, steps + 1
    finally:
        store.close()
    took = time.perf_counter() - started
    counts = ", ".join(f"{n:,} {kind}" for kind, n in dataclasses.asdict(total).items())
    print(f"  forgot {counts} in {steps} batches, {took:.1f} s "
          f"(longest batch {longest * 1000:.0f} ms)")  # fmt: skip
    print_added(
        "  rows and payload bytes after, against before", added(before, table_figures(path))
    )
    with sqlite3.connect(path) as db:
        free = int(db.execute("PRAGMA freelist_count").fetchone()[0])
        page = int(db.execute("PRAGMA page_size").fetchone()[0])
    print(f"  file {file_bytes(path) / 2**20:,.0f} MiB, of which {free * page / 2**20:,.0f} MiB "
          "free pages (reused by later writes; VACUUM gives them back)")  # fmt: skip


def store_count(path: Path, table: str) -> int:
    with sqlite3.connect(path) as db:
        return count(db, table)


# --- memory over many passes --------------------------------------------------------------


async def measure_memory(daemon: Any, world: World, passes: int) -> None:
    tracemalloc.start(10)
    first: tracemalloc.Snapshot | None = None
    first_at = 0
    started = time.perf_counter()
    for n in range(1, passes + 1):
        await daemon.reconcile_once()
        await one_wave(daemon, world.identity_ids[n % len(world.identity_ids)])
        if n == 10:
            gc.collect()
            first, first_at = tracemalloc.take_snapshot(), tracemalloc.get_traced_memory()[0]
            rss10 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    gc.collect()
    last, last_at = tracemalloc.take_snapshot(), tracemalloc.get_traced_memory()[0]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    took = time.perf_counter() - started
    print(f"\nmemory over {passes} full passes, each with a wave ({took:.0f} s)")
    print(f"  traced Python memory after 10 passes  {first_at / 2**20:8.2f} MiB")
    print(f"  traced Python memory after {passes:<4} passes {last_at / 2**20:7.2f} MiB")
    growth = (last_at - first_at) / max(passes - 10, 1)
    print(f"  growth per pass                        {growth / 1024:8.2f} KiB")
    rss_mib = f"{rss10 / 1024:.0f} / {rss / 1024:.0f} MiB"
    print(f"  peak RSS after 10 / {passes} passes          {rss_mib}")
    assert first is not None
    print("  where it grew most (top 8):")
    for stat in last.compare_to(first, "lineno")[:8]:
        frame = stat.traceback[0]
        print(f"    {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks  "
              f"{frame.filename.split('/src/')[-1]}:{frame.lineno}")  # fmt: skip
    await polls_and_renewals(daemon)
    tracemalloc.stop()


async def polls_and_renewals(daemon: Any, times: int = 3000) -> None:
    """The daemon's busiest store users: an event poll a second and a lease renewal every
    10 s at the defaults (86,400 and 8,640 a day)."""

    async def renewal() -> None:
        daemon.lease.settle(daemon.lease.ask())

    for label, work in (("event poll", daemon.poll_once), ("lease renewal", renewal)):
        await work()
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(times):
            await work()
        gc.collect()
        grown = (tracemalloc.get_traced_memory()[0] - before) / times
        print(f"  traced growth per {label:<14} {grown:8.1f} bytes (mean of {times:,})")


# --- main ---------------------------------------------------------------------------------


async def bench(options: argparse.Namespace, scratch: Path, kc: str, at: str, world: World
                ) -> None:  # fmt: skip
    store = scratch / "state.db"
    seed_links(store, world)
    config = config_file(scratch, kc, at, store)
    async with AsyncExitStack() as stack:
        daemon = await assembled(config, stack)
        growth = await measure_growth(daemon, store, world, options.passes)
        print(f"\nsteady state, {options.people:,} people, per table (indexes included)")
        print_added(f"one full pass (mean of {options.passes}; the file grew "
                    f"{growth.full_file_bytes:,.0f} bytes a pass)", growth.full)  # fmt: skip
        print_added("one wave re-check of one person (mean of 10)", growth.wave)
        print_added("one daily licence check", growth.licence)
        yearly = year(growth, options.waves_per_day)
        waves = options.waves_per_day
        print_added(f"a year at the defaults ({PASSES_PER_DAY} full passes, {waves} waves "
                    "and 1 licence check a day)", yearly)  # fmt: skip
        if options.memory_passes:
            await measure_memory(daemon, world, options.memory_passes)
    if options.year:
        filled = scratch / "year.db"
        fill_year(store, filled, 365, options.waves_per_day)
        print(f"\nqueries on a year of rows ({options.people:,} people), mean of 5")
        time_queries(filled)
        if options.keep_year:
            with sqlite3.connect(filled) as year_db, sqlite3.connect(options.keep_year) as kept:
                year_db.backup(kept)
        print(f"\nthe daemon's retention ({options.retention} days) on that year of rows")
        prune_as_the_daemon(filled, timedelta(days=options.retention))
        print(f"\nqueries after the retention ({options.people:,} people), mean of 5")
        time_queries(filled)


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--passes", type=int, default=10)
    parser.add_argument(
        "--waves-per-day",
        type=int,
        default=50,
        help="re-checks a day (admin events on people who did not leave)",
    )
    parser.add_argument("--memory-passes", type=int, default=0)
    parser.add_argument("--retention", type=int, default=30, help="days (store.retention)")
    parser.add_argument("--keep-year", type=Path, help="a copy of the year's store, unpruned")
    parser.add_argument("--no-year", dest="year", action="store_false")
    options = parser.parse_args()
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    from offboard_emulators.common.server import free_ports

    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        kc_port, at_port = free_ports(2)
        kc_manifest, at_manifest = scratch / "kc.json", scratch / "at.json"
        print(f"seeding {options.people:,} people in both emulators…", flush=True)
        with child_process(_serve_keycloak, (kc_port, options.people, str(kc_manifest)),
                           kc_port), \
             child_process(_serve_atlassian, (at_port, options.people, str(at_manifest)),
                           at_port):  # fmt: skip
            seeded = World(**json.loads(kc_manifest.read_text()))
            world = World(seeded.identity_ids, json.loads(at_manifest.read_text()), [], [])
            asyncio.run(bench(options, scratch, f"http://{LOOPBACK}:{kc_port}",
                              f"http://{LOOPBACK}:{at_port}", world))  # fmt: skip


if __name__ == "__main__":
    main()
