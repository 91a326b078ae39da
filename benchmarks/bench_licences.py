"""Licence report benchmark: the whole check over N accounts with last-active data.

The Atlassian emulator runs in its own process on a loopback port, seeded with N managed
accounts of varied use (many products, never-used accounts, recent and old activity). This
process holds a Keycloak snapshot of the same people (90 % of them current and linked, 5 %
leavers, 5 % without a Keycloak user) and a SQLite store with the links, then runs the
check exactly as ``offboard report licences --record`` does: the v2 directory read, the v1
managed-account listing with billing and per-product use, the report, its JSON, CSV and HTML
renderings, and the record in the history. Wall time, CPU time and peak RSS are this
process's, so they are offboard's alone. The build of the test data is not timed.

    .venv/bin/python benchmarks/bench_licences.py --people 100000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _harness import DIRECTORY, DOMAIN, LOOPBACK, ORG_ID, ORG_KEY, OWNER_ID, child_process

RESULTS = Path(__file__).parent / "results" / "licences.json"


def _serve(port: int, people: int, manifest: str) -> None:
    """Child process: the emulator with varied use, serving on ``port``."""
    import uvicorn

    from _harness import atlassian_parts
    from offboard_emulators.atlassian.app import create_app
    from offboard_emulators.atlassian.usage import vary_activity

    parts, ids = atlassian_parts(people, "seat")
    vary_activity(parts.state, ids, tokens_every=50)
    emails = [parts.state.account(i).email for i in ids]
    Path(manifest).write_text(json.dumps({"ids": ids, "emails": emails}))
    uvicorn.run(create_app(parts=parts), host=LOOPBACK, port=port, log_level="warning",
                access_log=False)  # fmt: skip


class Keycloak:
    """A complete Keycloak snapshot built once (reading Keycloak is not what is measured)."""

    def __init__(self, snapshot: Any) -> None:
        self.snap = snapshot

    async def snapshot(self, *, progress: Any = None) -> Any:
        return self.snap


def people_and_links(ids: list[str], emails: list[str]) -> tuple[Any, list[Any]]:
    from offboard.core.accounts import AccountId
    from offboard.core.identities import Identity, IdentityId
    from offboard.core.links import Link
    from offboard.core.snapshots import SourceSnapshot

    now = datetime.now(UTC)
    identities, links = [], []
    for n, (account_id, email) in enumerate(zip(ids, emails, strict=True)):
        if n % 20 == 0:
            continue  # no Keycloak user: an orphan seat
        kc = IdentityId(f"{n:08x}-7d1c-4b1e-9a55-{n:012x}")
        identities.append(Identity(kc, f"seat{n}", email, enabled=n % 20 != 1))
        links.append(Link(kc, AccountId(account_id), email, now - timedelta(days=400)))
    return SourceSnapshot(tuple(identities), now, True), links


async def measured(url: str, source: Any, store: Any) -> dict[str, Any]:
    from offboard.adapters.atlassian import AtlassianDirectory
    from offboard.adapters.atlassian_org.usage import UsageReader
    from offboard.core.licence_rendering import to_csv, to_html, to_json
    from offboard.core.licences import ReportOptions
    from offboard.ports import SystemClock
    from offboard.service.licence_check import run_licence_check

    options = ReportOptions(inactive_days=90, prices={"jira-software": 8.6, "*": 6.0})
    started, cpu = time.perf_counter(), time.process_time()
    async with AtlassianDirectory(
        org_id=ORG_ID, org_key=ORG_KEY, base_url=url, directory_id=DIRECTORY,
        key_owner_account_id=OWNER_ID, rate_per_second=10_000, burst=100,
    ) as directory:  # fmt: skip
        report = await run_licence_check(
            source, directory, UsageReader(directory.org), store, store, options, SystemClock()
        )
    read_done = time.perf_counter()
    sizes = {"json": len(to_json(report)), "csv": len(to_csv(report)), "html": len(to_html(report))}
    ended = time.perf_counter()
    return {
        "wall_s": round(ended - started, 2),
        "cpu_s": round(time.process_time() - cpu, 2),
        "read_and_report_s": round(read_done - started, 2),
        "render_s": round(ended - read_done, 2),
        "bytes": sizes,
        "accounts": len(report.lines),
        "reclaimable_seats": report.reclaimable_seats,
        "monthly_cost": report.reclaimable_cost(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--no-save", action="store_true", help="Print only.")
    args = parser.parse_args()
    from offboard.store import open_store
    from offboard_emulators.common.server import free_port

    with tempfile.TemporaryDirectory(prefix="bench-licences-") as scratch:
        port, manifest = free_port(), Path(scratch) / "manifest.json"
        with child_process(_serve, (port, args.people, str(manifest)), port):
            world = json.loads(manifest.read_text())
            source, links = people_and_links(world["ids"], world["emails"])
            store = open_store(Path(scratch) / "offboard.sqlite3")
            store.upsert_links(links)
            before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            figures = asyncio.run(measured(f"http://{LOOPBACK}:{port}", Keycloak(source), store))
            store.close()
    figures |= {
        "people": args.people,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "rss_before_check_mb": round(before_mb),
        "load_average": round(os.getloadavg()[0], 2),
        "domain": DOMAIN,
    }
    print(json.dumps(figures, indent=2))
    if not args.no_save:
        RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
        print(f"saved {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
