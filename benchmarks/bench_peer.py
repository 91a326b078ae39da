"""offboard against the naive peer script, whole processes on the same seeded emulators.

The peer (``naive_peer.py``) is the community recipe: list Keycloak users, take the
disabled ones, find each account id with the Organizations API, ``lifecycle/disable``.
offboard runs as ``offboard apply --yes`` with a config file, on a store where everyone is
already linked (as a first linking run leaves it; that run is not timed). Each pair of runs
gets fresh emulators seeded with the same world (``_harness``: N people, every 50th a
leaver, alternately disabled and deleted) plus the hazards a real realm has:

* locked-out people who did not leave, shown ``enabled:false`` as Keycloak before 26.4 did;
* org admins whose Keycloak user is disabled (protected principals: not for a script to cut);
* spurious ``enabled:false`` reads (Keycloak issue 40689, a seeded rate);
* a shifting listing (someone deleted while the users are paged) only with
  ``--shifting-listing``: offboard then refuses the whole plan (guard ``source-incomplete``,
  as it must: a skipped user's absence is not a leave) while the script goes on, so the
  timed runs leave it out and the row says which way it went.

With ``--atlassian-rate R`` the Atlassian emulator answers the key at most R requests a
second (``PerKeyLimit``, 429 with ``Retry-After`` beyond) and offboard is configured to the
same pace, as on a tenant at Atlassian's limit (10 a second by default): what the issue's
"as fast as the naive script under Atlassian's rate limit" asks. The script sends a request
again after a 429 (``naive_peer.posted``); the 429s each tool met are counted.

Per run: wall time, CPU time and peak RSS of the whole process with its children
(GNU ``time``), requests as the emulators recorded them (total and Atlassian), and the
outcome read from the Atlassian emulator: **wrongful** deactivations (people who had not
left, or protected ones) and **missed** leavers. Medians of ``--repeat`` paired runs.

    .venv/bin/python benchmarks/bench_peer.py --sizes 10000,50000 --repeat 3
    .venv/bin/python benchmarks/bench_peer.py --sizes 10000 --repeat 3 --atlassian-rate 10
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))

from _harness import (
    CLIENT_ID,
    CLIENT_SECRET,
    LOOPBACK,
    ORG_ID,
    ORG_KEY,
    REALM,
    World,
    atlassian_parts,
    child_process,
    keycloak_state,
    request_kind,
    seed_links,
    sides_toml,
)

CONTROL = "/_emulator"

ROOT = Path(__file__).parents[1]
RESULTS = ROOT / "benchmarks/results/peer.json"
NAIVE = Path(__file__).parent / "naive_peer.py"
LOCKED_EVERY = 2000
"""Every 2,000th person (offset 1,000, never a leaver) is locked out, not gone."""
ADMIN_EVERY = 10
"""Every 10th disabled leaver (by position) is an org admin in Atlassian: protected."""
SPURIOUS_RATE = 0.0002
DELETED_WHILE_PAGING = 2
"""With ``--shifting-listing``: how many listings delete someone while they are paged."""
ORG_ADMIN = "atlassian/org-admin"
TIME = "/usr/bin/time"
"""GNU time (Debian package ``time``) measures each tool's whole process."""
PROFILE = os.environ.get("BENCH_PEER_PROFILE", "")
"""A file for a pyinstrument profile of the offboard runs (wall-clock, async-aware)."""
IMPORTTIME = os.environ.get("BENCH_PEER_IMPORTTIME", "")
"""A file to copy the ``-X importtime`` log of the offboard runs to."""
CPROFILE = os.environ.get("BENCH_PEER_CPROFILE", "")
"""A file for a cProfile (pstats) of the offboard runs: where the CPU goes, flat."""
TIMELINE = os.environ.get("BENCH_PEER_TIMELINE", "")
"""A file to write each tool's request timeline to: runs of requests of one kind, each with
its first and last answer in seconds from the process start (both emulators, merged)."""
PYSPY = os.environ.get("BENCH_PEER_PYSPY", "")
"""A file for py-spy's sampled CPU profile of the offboard runs (collapsed stacks, no
overhead on the measured process worth the name: cProfile doubles its CPU)."""


def compiled_like_an_install() -> None:
    """Write offboard's bytecode caches, as ``pip install`` does for an installed package.

    An editable checkout run with ``PYTHONDONTWRITEBYTECODE`` (as in CI and these sessions)
    otherwise compiles every offboard module from source at each start: about 0.1 s that
    no installed offboard pays, while the script's libraries come compiled."""
    import importlib.util

    spec = importlib.util.find_spec("offboard")
    assert spec is not None
    for folder in spec.submodule_search_locations or []:
        subprocess.run([sys.executable, "-m", "compileall", "-q", folder], check=True)


def hazards(world: World) -> dict[str, list[int]]:
    people = len(world.identity_ids)
    leavers = set(world.leavers)
    locked = [n for n in range(LOCKED_EVERY // 2, people, LOCKED_EVERY) if n not in leavers]
    return {"locked": locked, "admins": world.disabled[::ADMIN_EVERY]}


def _serve_keycloak(port: int, people: int, manifest: str, shifting: bool) -> None:
    import uvicorn

    from offboard_emulators.keycloak.app import create_app
    from offboard_emulators.keycloak.login import LoginFailures
    from offboard_emulators.keycloak.state import KeycloakFaults

    state, world = keycloak_state(people, 50)
    now = state.realm.now_ms()
    for n in hazards(world)["locked"]:
        state.logins.failures[world.identity_ids[n]] = LoginFailures(30, now, now + 3_600_000, 1)
    state.realm.lockout_reports_disabled = True  # 26.3-era reads: locked shows enabled:false
    state.realm.configure_faults(
        KeycloakFaults(spurious_disabled_rate=SPURIOUS_RATE,
                       delete_during_paging=DELETED_WHILE_PAGING if shifting else 0, seed=7)
    )  # fmt: skip
    Path(manifest).write_text(json.dumps(world.__dict__))
    uvicorn.run(create_app(state), host=LOOPBACK, port=port, log_level="warning",
                access_log=False)  # fmt: skip


def _serve_atlassian(
    port: int, people: int, admins: list[int], manifest: str, rate: float | None
) -> None:
    import uvicorn
    from starlette.types import ASGIApp

    from offboard_emulators.atlassian.app import create_app
    from offboard_emulators.atlassian.key_limit import PerKeyLimit
    from offboard_emulators.common.ratelimit import RateLimitConfig

    parts, ids = atlassian_parts(people)
    for n in admins:
        parts.state.account(ids[n]).platform_roles = [ORG_ADMIN]
    Path(manifest).write_text(json.dumps(ids))
    app: ASGIApp = create_app(parts=parts)
    if rate is not None:
        app = PerKeyLimit(app, RateLimitConfig(capacity=max(1, int(rate)), period_seconds=1))
    uvicorn.run(app, host=LOOPBACK, port=port, log_level="warning", access_log=False)


def free_ports(count: int) -> list[int]:
    from offboard_emulators.common.server import free_ports as pick

    return pick(count)


def config_file(folder: Path, kc_url: str, at_url: str, rate: float | None) -> Path:
    text = (
        sides_toml(kc_url, at_url, rate)
        + f"""
[policy.thresholds]
max_deactivations = 1000000
max_deactivation_percent = 100
max_source_drop_percent = 100

[policy.budget]
hour_max_actions = 1000000
hour_max_percent = 100
day_max_actions = 1000000
day_max_percent = 100

[store]
path = "{folder / "state.db"}"
"""
    )
    path = folder / "offboard.toml"
    path.write_text(text, encoding="utf-8")
    return path


def measured(command: list[str], log: Path) -> dict[str, Any]:
    """Run ``command`` under GNU time: its wall, CPU (children included) and peak RSS.

    Not ``os.wait4`` from here: a child forked from this process starts with this process's
    high-water mark of RSS, which survives its ``exec``; ``time`` is a small C program."""
    figures = log.with_suffix(".time")
    timed = [TIME, "-o", str(figures), "-f", "%e %U %S %M", *command]
    with log.open("wb") as sink:
        exit_code = subprocess.run(
            timed, stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT
        ).returncode
    wall, user, system, peak_kb = figures.read_text().split()[-4:]
    return {
        "wall_s": round(float(wall), 2),
        "cpu_s": round(float(user) + float(system), 2),
        "peak_rss_mb": round(int(peak_kb) / 1024, 1),
        "exit": exit_code,
        "tail": log.read_text(errors="replace").strip().splitlines()[-12:],
    }


def timeline(urls: list[str], started: float) -> list[str]:
    """Runs of same-kind requests, in answer order: ``first-last s  count  kind  host``."""
    answered: list[tuple[float, str]] = []
    for url in urls:
        with httpx.Client(base_url=url, timeout=60) as client:
            entries = client.get("/_emulator/requests").json()["requests"]
        side = "keycloak" if url == urls[0] else "atlassian"
        for entry in entries:
            if not entry["path"].startswith(CONTROL):
                at = datetime.fromisoformat(entry["at"]).timestamp() - started
                answered.append((at, f"{request_kind(entry['path'])} ({side})"))
    answered.sort()
    runs: list[list[Any]] = []
    for at, kind in answered:
        if runs and runs[-1][3] == kind:
            runs[-1][1], runs[-1][2] = at, runs[-1][2] + 1
        else:
            runs.append([at, at, 1, kind])
    return [f"{a:6.2f}-{b:6.2f} s {n:6d}  {kind}" for a, b, n, kind in runs]


def recorded(url: str, clear: bool = False) -> dict[str, int]:
    """Requests the emulator answered by kind (its own control surface excluded)."""
    with httpx.Client(base_url=url, timeout=60) as client:
        if clear:
            client.delete("/_emulator/requests")
            return {}
        entries = client.get("/_emulator/requests").json()["requests"]
    kinds = Counter(request_kind(e["path"]) for e in entries if not e["path"].startswith(CONTROL))
    return dict(kinds)


def inactive_accounts(url: str) -> set[str]:
    """Account ids the Atlassian emulator shows inactive (after the read lag has passed)."""
    from naive_peer import posted  # the same patience with a rate limit as the script's

    time.sleep(1.0)
    found: set[str] = set()
    body: dict[str, Any] = {"accountStatus": ["inactive"], "limit": 100}
    auth = {"Authorization": f"Bearer {ORG_KEY}"}
    path = f"/admin/v2/orgs/{ORG_ID}/directories/-/users/search"
    with httpx.Client(base_url=url, timeout=60, headers=auth) as client:
        while True:
            page = posted(client, path, body).json()
            found.update(user["accountId"] for user in page["data"])
            if not page["links"].get("next"):
                return found
            body = {"cursor": page["links"]["next"]}


def deleted_while_paging(kc_url: str, world: World) -> set[int]:
    """People the shifting listing deleted (they left too, during the run)."""
    from keycloak import KeycloakAdmin, KeycloakOpenIDConnection

    connection = KeycloakOpenIDConnection(
        server_url=kc_url, realm_name=REALM, client_id=CLIENT_ID, client_secret_key=CLIENT_SECRET
    )
    users = KeycloakAdmin(connection=connection).get_users({"briefRepresentation": True})
    present = {user["id"] for user in users}
    gone = set(world.deleted)
    return {n for n, ident in enumerate(world.identity_ids) if ident not in present} - gone


def refused(url: str) -> int:
    """Requests the per-key limit answered 429 (0 without one: the emulator 404s the path)."""
    with httpx.Client(base_url=url, timeout=60) as client:
        answer = client.get(f"{CONTROL}/key-limit")
    return int(answer.json()["refused"]) if answer.status_code == 200 else 0


def one_run(
    tool: str, people: int, scratch: Path, shifting: bool, rate: float | None = None
) -> dict[str, Any]:
    """Fresh emulators, one tool, its figures and its wrongful and missed actions."""
    kc_port, at_port = free_ports(2)
    kc_manifest, at_manifest = scratch / "kc.json", scratch / "at.json"
    world_probe = World([""] * people, [], *_split(people))
    admins = hazards(world_probe)["admins"]
    kc_args = (kc_port, people, str(kc_manifest), shifting)
    at_args = (at_port, people, admins, str(at_manifest), rate)
    with child_process(_serve_keycloak, kc_args, kc_port), \
         child_process(_serve_atlassian, at_args, at_port):  # fmt: skip
        kc_url, at_url = f"http://{LOOPBACK}:{kc_port}", f"http://{LOOPBACK}:{at_port}"
        seeded = World(**json.loads(kc_manifest.read_text()))
        world = World(seeded.identity_ids, json.loads(at_manifest.read_text()),
                      seeded.disabled, seeded.deleted)  # fmt: skip
        if tool == "offboard":
            config = config_file(scratch, kc_url, at_url, rate)
            seed_links(scratch / "state.db", world)
            command = [sys.executable, "-m", "offboard", "--config", str(config),
                       "apply", "--yes"]  # fmt: skip
            if IMPORTTIME:  # the import times land in the run's log (copied next to it)
                command[1:1] = ["-X", "importtime"]
            if PROFILE:  # wall-clock profile of the whole process (pip install pyinstrument)
                command[1:1] = ["-m", "pyinstrument", "-r", "text", "-o", PROFILE]
            if CPROFILE:  # deterministic CPU profile (pstats file), for a flat view
                command[1:1] = ["-m", "cProfile", "-o", CPROFILE]
            if PYSPY:  # sampled, CPU time only (--idle off): where a run's CPU goes
                spy = str(Path(sys.executable).with_name("py-spy"))
                command[:0] = [spy, "record", "-r", "250", "-f", "raw", "-o", PYSPY, "--"]
        else:
            command = [sys.executable, str(NAIVE), kc_url, REALM, CLIENT_ID, CLIENT_SECRET,
                       at_url, ORG_ID, ORG_KEY]  # fmt: skip
        recorded(kc_url, clear=True)
        recorded(at_url, clear=True)
        launched = time.time()
        figures = measured(command, scratch / f"{tool}.log")
        if TIMELINE:
            lines = timeline([kc_url, at_url], launched)
            with Path(TIMELINE).open("a") as out:
                out.write(f"# {tool}, {people} people, wall {figures['wall_s']} s\n")
                out.write("\n".join(lines) + "\n")
        if IMPORTTIME and tool == "offboard":
            Path(IMPORTTIME).write_bytes((scratch / f"{tool}.log").read_bytes())
        figures["keycloak_kinds"] = recorded(kc_url)
        figures["atlassian_kinds"] = recorded(at_url)
        figures["keycloak_requests"] = sum(figures["keycloak_kinds"].values())
        figures["atlassian_requests"] = sum(figures["atlassian_kinds"].values())
        figures["requests"] = figures["keycloak_requests"] + figures["atlassian_requests"]
        figures["atlassian_429"] = refused(at_url)
        figures.update(judge(world, admins, inactive_accounts(at_url),
                             deleted_while_paging(kc_url, world)))  # fmt: skip
    return figures


def _split(people: int) -> tuple[list[int], list[int]]:
    from _harness import leaver_split

    return leaver_split(people, 50)


def judge(world: World, admins: list[int], inactive: set[str], shifted: set[int]) -> dict[str, int]:
    """Wrongful: inactive but not a leaver, or protected. Missed: a leaver still active."""
    leavers = (set(world.leavers) | shifted) - set(admins)
    index = {account: n for n, account in enumerate(world.account_ids)}
    acted = {index[a] for a in inactive if a in index}
    return {
        "leavers": len(leavers),
        "deactivated": len(acted),
        "wrongful": len(acted - leavers),
        "missed": len(leavers - acted),
    }


def paired(
    people: int, repeat: int, shifting: bool = False, rate: float | None = None
) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {"naive": [], "offboard": []}
    for round_ in range(repeat):
        for tool in ("naive", "offboard") if round_ % 2 == 0 else ("offboard", "naive"):
            with tempfile.TemporaryDirectory() as folder:
                run = one_run(tool, people, Path(folder), shifting, rate)
            runs[tool].append(run)
            if run["exit"] not in (0, 6):
                print("\n".join(run["tail"]))
            print(f"  {people:>7,} {tool:<9} {_line(run)}", flush=True)
    row: dict[str, Any] = {
        "people": people,
        "repeat": repeat,
        "shifting_listing": shifting,
        "atlassian_rate": rate,
        "load_average": round(os.getloadavg()[0], 1),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    for tool, tool_runs in runs.items():
        row[tool] = {key: statistics.median(run[key] for run in tool_runs) for key in NUMBERS}
        row[tool]["runs_wall_s"] = sorted(run["wall_s"] for run in tool_runs)
        row[tool]["exit"] = [run["exit"] for run in tool_runs]
        middle = sorted(tool_runs, key=lambda run: run["wall_s"])[(len(tool_runs) - 1) // 2]
        row[tool]["kinds"] = {"keycloak": middle["keycloak_kinds"],
                              "atlassian": middle["atlassian_kinds"]}  # fmt: skip
    row["ratio"] = {key: round(row["offboard"][key] / row["naive"][key], 2)
                    for key in RATIOS if row["naive"][key]}  # fmt: skip
    return row


NUMBERS = ("wall_s", "cpu_s", "peak_rss_mb", "requests", "atlassian_requests",
           "keycloak_requests", "leavers", "deactivated", "wrongful", "missed",
           "atlassian_429")  # fmt: skip
RATIOS = ("wall_s", "cpu_s", "peak_rss_mb", "requests", "atlassian_requests")


def _line(run: dict[str, Any]) -> str:
    return (f"{run['wall_s']:6.1f} s wall {run['cpu_s']:6.1f} s CPU {run['peak_rss_mb']:6.0f} MB  "
            f"{run['requests']:>6,} req ({run['atlassian_requests']:,} Atlassian)  "
            f"deactivated {run['deactivated']}, wrongful {run['wrongful']}, "
            f"missed {run['missed']} of {run['leavers']}, 429s {run['atlassian_429']}  "
            f"exit {run['exit']}\n"
            f"      {run['keycloak_kinds']} {run['atlassian_kinds']}")  # fmt: skip


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| people | offboard / naive: wall | CPU | peak memory | requests (Atlassian) "
             "| wrongful: offboard / naive | missed: offboard / naive |",
             "|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for row in rows:
        r, o, n = row["ratio"], row["offboard"], row["naive"]
        lines.append(
            f"| {row['people']:,} | {r['wall_s']:.2f}× | {r['cpu_s']:.2f}× "
            f"| {r['peak_rss_mb']:.2f}× | {r['requests']:.2f}× ({r['atlassian_requests']:.2f}×) "
            f"| {o['wrongful']:g} / {n['wrongful']:g} | {o['missed']:g} / {n['missed']:g} |"
        )
    return "\n".join(lines)


def save(rows: list[dict[str, Any]]) -> None:
    kept = json.loads(RESULTS.read_text())["rows"] if RESULTS.exists() else []

    def key(row: dict[str, Any]) -> str:
        rate = row.get("atlassian_rate")
        return (f"{row['people']}{' shifting' if row.get('shifting_listing') else ''}"
                f"{f' at {rate:g}/s' if rate else ''}")  # fmt: skip

    merged = {key(row): row for row in kept} | {key(row): row for row in rows}
    machine = {"python": platform.python_version(), "platform": platform.platform(),
               "cpus": os.cpu_count()}  # fmt: skip
    RESULTS.write_text(json.dumps({"machine": machine, "rows": sorted(merged.values(), key=key)},
                                  indent=1, sort_keys=True) + "\n")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--sizes", default="10000,50000")
    parser.add_argument("--repeat", type=int, default=3, help="paired runs per size (median)")
    parser.add_argument(
        "--shifting-listing",
        action="store_true",
        help="delete people while they are paged (offboard refuses the plan)",
    )
    parser.add_argument(
        "--atlassian-rate",
        type=float,
        default=None,
        help="requests a second the Atlassian key may make (Atlassian's default: 10); "
        "offboard is set to the same pace",
    )
    parser.add_argument("--no-save", action="store_true")
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",") if size]
    compiled_like_an_install()
    rate = options.atlassian_rate
    rows = [paired(size, options.repeat, options.shifting_listing, rate) for size in sizes]
    print(table(rows))
    if rows and not options.no_save:
        save(rows)
        print(f"saved to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
