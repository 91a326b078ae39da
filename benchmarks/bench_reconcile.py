"""Full reconciliation end to end at scale: both snapshots, confirmations, plan, apply, read-back.

Each emulator runs in its own process on a loopback socket, and so does the measured offboard
run (``_measured.py``), so wall time, CPU time and peak RSS are offboard's alone. The world
(see ``_harness``): N people, every ``--leaver-every``-th a leaver (alternately disabled and
deleted in Keycloak), everyone linked in a fresh SQLite store before the run (the first
linking run is excluded from the timing). Requests are counted per vendor and kind by a
counting transport, and compared with the minimum (pages at the largest allowed page size,
one call per action and one per read-back) and with the minimum the design asks for (plus
one read by id per deleted leaver, and for the disabled ones a fresh read and three
confirming rounds that each read the listing of disabled users).

Rows are merged into ``benchmarks/results/reconcile.json`` (keyed by target and size).

    .venv/bin/python benchmarks/bench_reconcile.py --sizes 1000,10000,50000,100000 --repeat 3
    .venv/bin/python benchmarks/bench_reconcile.py --sizes 10000 --reread-delay 0.5
    .venv/bin/python benchmarks/bench_reconcile.py --sizes '' --real-keycloak 10000
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import platform
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parents[1]))  # tests/ (real-server helpers)
sys.path.insert(0, str(Path(__file__).parent))

from _harness import (
    CLIENT_ID,
    CLIENT_SECRET,
    ORG_ID,
    ORG_KEY,
    REALM,
    World,
    atlassian_emulator,
    cpu_seconds,
    emulators,
    leaver_split,
    seed_links,
)
from _measured import run_measured
from offboard.adapters.keycloak.confirmation import USERS_PER_READ

RESULTS = Path(__file__).parent / "results" / "reconcile.json"
KEYCLOAK_MAX_PAGE = 1000  # the largest keycloak.page_size the settings allow
ATLASSIAN_MAX_PAGE = 100  # v2 users/search: limit 1..100
ATLASSIAN_IDS_PER_SEARCH = 10  # v2 users/search: accountIds takes ten
ATLASSIAN_EMAILS_PER_SEARCH = 100  # v2 users/search: emails takes a hundred


def check_outcome(atlassian_url: str, world: World, sample: int = 300) -> dict[str, int]:
    """Every leaver's account inactive, and a random sample of the others still active."""
    leavers = world.leavers
    others = sorted(set(range(len(world.account_ids))) - set(leavers))
    picked = random.Random(1).sample(others, min(sample, len(others)))

    def status(client: httpx.Client, index: int) -> str:
        # The v2 details read; /_emulator/accounts/{id} answers 500 for generated accounts
        # (a datetime left in product_access), reported to the emulator's owner.
        path = f"/admin/v2/orgs/{ORG_ID}/directories/-/users/{world.account_ids[index]}"
        return str(client.get(path).json()["data"]["accountStatus"])

    auth = {"Authorization": f"Bearer {ORG_KEY}"}
    with httpx.Client(base_url=atlassian_url, timeout=30, headers=auth) as client:
        leavers_inactive = sum(status(client, n) == "inactive" for n in leavers)
        others_active = sum(status(client, n) == "active" for n in picked)
    return {
        "leavers": len(leavers),
        "leavers_inactive": leavers_inactive,
        "others_sampled": len(picked),
        "others_active": others_active,
    }


CONFIRM_READS = 3
"""The Keycloak adapter's default confirming re-reads per disabled leaver."""


def minimums(figures: dict[str, Any], people: int, world: World) -> dict[str, Any]:
    """Strict minimum and design minimum of requests, and the ratios to both."""
    leavers, disabled = len(world.leavers), len(world.disabled)
    kc_pages = math.ceil(figures["listed"] / KEYCLOAK_MAX_PAGE)
    # Atlassian: the leavers' accounts found by the cheaper of a walk of the directory (one
    # account per person) and searches by ten account ids (everyone is linked), a
    # lifecycle/disable each, and the read-backs by a hundred emails per search.
    walk = math.ceil(people / ATLASSIAN_MAX_PAGE)
    found = min(walk, math.ceil(leavers / ATLASSIAN_IDS_PER_SEARCH))
    strict = kc_pages + found + leavers + math.ceil(leavers / ATLASSIAN_EMAILS_PER_SEARCH)
    # Safety's own requests: a read by id per deleted leaver (a 404 is the proof); per
    # disabled one a fresh read and three confirming rounds, each the listing of disabled
    # users when it spares enough reads (the fresh read's full pages show a permanent
    # lockout), else a read by id each, the fresh one with a brute-force check.
    pages = math.ceil(disabled / KEYCLOAK_MAX_PAGE)
    first = pages if 0 < disabled <= USERS_PER_READ * leavers else 2 * disabled
    # The rounds' pending users are the disabled ones themselves: the listing always pays.
    design = strict + (leavers - disabled) + first + CONFIRM_READS * pages
    made = sum(figures["keycloak_requests"].values()) + sum(figures["atlassian_requests"].values())
    return {
        "minimum": strict,
        "design_minimum": design,
        "requests": made,
        "ratio": round(made / strict, 3),
        "ratio_design": round(made / design, 3),
    }


def bench_emulated(people: int, options: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        print(f"seeding {people:,} people in both emulators…", flush=True)
        with emulators(people, options.leaver_every, scratch) as running:
            store = scratch / "state.db"
            seed_links(store, running.world)
            config = _config(options, running.keycloak_url, running.atlassian_url, store)
            config.update(realm=REALM, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                          recheck_id=running.world.identity_ids[0])  # fmt: skip
            emulator_cpu = cpu_seconds(running.pids)
            figures = run_measured(config)
            figures["emulators_cpu_s"] = round(cpu_seconds(running.pids) - emulator_cpu, 2)
            figures["check"] = check_outcome(running.atlassian_url, running.world)
            figures.update(minimums(figures, people, running.world))
    return _row("emulator", people, options, figures)


def bench_real_keycloak(people: int, options: argparse.Namespace) -> dict[str, Any] | None:
    """The same run against the real Keycloak (started or reused); None when there is no Java."""
    import shutil

    from tests.keycloak.fixture import serve_keycloak

    if shutil.which("java") is None:
        print(f"real Keycloak row skipped: no Java on this machine ({people:,} people)")
        return None
    serving = contextlib.contextmanager(serve_keycloak)()
    with serving as server, tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        world = _real_world(server.admin, people, options.leaver_every)
        with atlassian_emulator(people, scratch, prefix="recon") as (url, account_ids, at_pid):
            world = World(world.identity_ids, account_ids, world.disabled, world.deleted, "recon")
            store = scratch / "state.db"
            seed_links(store, world)
            config = _config(options, server.base_url, url, store)
            config.update(realm=server.realm, client_id=server.client_id,
                          client_secret=server.client_secret,
                          recheck_id=world.identity_ids[0])  # fmt: skip
            try:
                emulator_cpu = cpu_seconds((at_pid,))
                figures = run_measured(config)
                figures["emulators_cpu_s"] = round(cpu_seconds((at_pid,)) - emulator_cpu, 2)
                figures["check"] = check_outcome(url, world)
                figures.update(minimums(figures, people, world))
            finally:
                _restore_real_world(server.admin, world)
    return _row("real Keycloak 26.7.3", people, options, figures)


def _real_world(admin: Any, people: int, leaver_every: int) -> World:
    """``recon-NNNNNN`` users (created once, reused), with this run's leavers applied."""
    from concurrent.futures import ThreadPoolExecutor

    listed = admin.request("GET", "users", params={"username": "recon-",
                                                   "briefRepresentation": "true",
                                                   "max": people * 2}).json()  # fmt: skip
    ids = {user["username"]: user["id"] for user in listed}
    missing = [f"recon-{n:06d}" for n in range(people) if f"recon-{n:06d}" not in ids]
    if missing:
        print(f"creating {len(missing):,} users in the real Keycloak…", flush=True)
        with ThreadPoolExecutor(max_workers=8) as pool:
            ids.update(zip(missing, pool.map(admin.create_user, missing), strict=True))
    ordered = [ids[f"recon-{n:06d}"] for n in range(people)]
    disabled, deleted = leaver_split(people, leaver_every)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda n: admin.disable_user(ordered[n]), disabled))
        list(pool.map(lambda n: admin.delete_user(ordered[n]), deleted))
    return World(ordered, [], disabled, deleted, "recon")


def _restore_real_world(admin: Any, world: World) -> None:
    """Enable the disabled again; the deleted are re-created by the next run."""
    for index in world.disabled:
        admin.enable_user(world.identity_ids[index])


def _config(options: argparse.Namespace, kc: str, at: str, store: Path) -> dict[str, Any]:
    return {
        "keycloak_url": kc,
        "atlassian_url": at,
        "store": str(store),
        "page_size": options.page_size,
        "reread_delay": options.reread_delay,
        "rate": options.rate,
        "apply_concurrency": options.apply_concurrency,
        "profile": options.profile,
    }


def _row(
    target: str, people: int, options: argparse.Namespace, figures: dict[str, Any]
) -> dict[str, Any]:
    return {
        "target": target,
        "people": people,
        "leavers": figures["check"]["leavers"],
        "page_size": options.page_size,
        "reread_delay": options.reread_delay,
        "rate": options.rate,
        "apply_concurrency": options.apply_concurrency,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load_average": round(__import__("os").getloadavg()[0], 1),
        **figures,
    }


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median wall time, carrying every run's wall and CPU time: on a shared
    machine wall time varies from run to run, and one run alone can mislead either way."""
    ordered = sorted(runs, key=lambda run: run["wall_s"])
    kept = dict(ordered[(len(ordered) - 1) // 2])
    kept["runs_wall_s"] = [run["wall_s"] for run in ordered]
    kept["runs_cpu_s"] = sorted(run["cpu_s"] for run in runs)
    return kept


def show(row: dict[str, Any]) -> None:
    check = row["check"]
    print(
        f"{row['target']:<22} {row['people']:>7,} people  {row['wall_s']:7.1f} s wall "
        f"{row['cpu_s']:7.1f} s CPU (emulators {row['emulators_cpu_s']:.1f} s)  "
        f"{row['peak_rss_mb']:6.0f} MB RSS  "
        f"Keycloak {sum(row['keycloak_requests'].values()):,} req  "
        f"Atlassian {sum(row['atlassian_requests'].values()):,} req  "
        f"ratio {row['ratio']:.2f} (design {row['ratio_design']:.2f})  "
        f"leavers {check['leavers_inactive']}/{check['leavers']} inactive, "
        f"others {check['others_active']}/{check['others_sampled']} active  [{row['status']}]  "
        f"phases {row['phases_s']}  one re-check {row['recheck']}",
        flush=True,
    )


def save(rows: list[dict[str, Any]], path: Path = RESULTS) -> None:
    """Merge rows into the results file, keyed by target, size and re-read pause."""
    kept = json.loads(path.read_text())["rows"] if path.exists() else []

    def key(row: dict[str, Any]) -> tuple[str, int, float]:
        return (row["target"], row["people"], row["reread_delay"])

    merged = {key(row): row for row in kept}
    merged.update({key(row): row for row in rows})
    path.parent.mkdir(parents=True, exist_ok=True)
    machine = {"python": platform.python_version(), "platform": platform.platform()}
    document = {"machine": machine, "rows": sorted(merged.values(), key=key)}
    path.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,50000,100000")
    parser.add_argument("--leaver-every", type=int, default=50, help="50 means 2%% leavers")
    parser.add_argument("--page-size", type=int, default=KEYCLOAK_MAX_PAGE)
    parser.add_argument(
        "--reread-delay", type=float, default=0.2,
        help="pause between confirming rounds (0.2 s, the product's default)",
    )  # fmt: skip
    parser.add_argument(
        "--repeat", type=int, default=1,
        help="runs per emulated size; the row kept is the median by wall time, with the range",
    )  # fmt: skip
    parser.add_argument("--rate", type=float, default=1000.0, help="Atlassian requests/s cap")
    parser.add_argument("--apply-concurrency", type=int, default=4)
    parser.add_argument("--real-keycloak", type=int, default=0, help="people on a real server")
    parser.add_argument("--no-save", action="store_true")
    parser.add_argument("--profile", help="write a cProfile of the measured process here")
    return parser.parse_args()


def main() -> None:
    options = parse()
    rows = []
    for people in [int(size) for size in options.sizes.split(",") if size]:
        runs = []
        for _ in range(max(1, options.repeat)):
            runs.append(bench_emulated(people, options))
            show(runs[-1])
        rows.append(median_run(runs))
    if options.real_keycloak:
        real = bench_real_keycloak(options.real_keycloak, options)
        if real is not None:
            rows.append(real)
            show(real)
    if rows and not options.no_save:
        save(rows)
        print(f"saved to {RESULTS}")


if __name__ == "__main__":
    main()
