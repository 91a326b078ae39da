"""Provisioning at scale: the first SCIM sync of N users and G groups, then one re-check.

The Atlassian emulator runs in its own process (SCIM directory empty, its rate limit off so
the figures show offboard); offboard runs here: the whole-directory read, the pure planner
and the two-phase apply through ``apply_plan`` with its SQLite journal and read-backs.
Each person is in one selected group (N / G members each). The Keycloak side is given as
the planner's input: its reads are the listing measured by ``bench_reconcile.py`` plus one
members page per selected group. Then, on the full directory, one person's re-check (a
mover) is timed and counted: its cost must not grow with the directory.

Atlassian publishes no SCIM rate limit; offboard's client limit
(``atlassian.rate_limit_per_second``, default 10) is the highest rate it sends at. The
time at that limit is requests / rate. A last, throttled segment (the emulator limiting at
the same rate as the client) checks that no second holds more requests than the limit and
that no 429 comes back.

    .venv/bin/python benchmarks/bench_provisioning.py --users 100000 --groups 5000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from _harness import LOOPBACK, ORG_ID, ORG_KEY, child_process, cpu_seconds

SCIM_DIRECTORY = "scim-bench"
SCIM_KEY = "bench-scim-key"
DOMAIN = "example.test"
RESULTS = Path(__file__).parent / "results/provisioning.json"


def _serve(port: int, limit_per_second: int) -> None:
    import uvicorn

    from offboard_emulators.atlassian.app import EmulatorParts, create_app
    from offboard_emulators.atlassian.fixture import seed
    from offboard_emulators.atlassian.state import AtlassianState
    from offboard_emulators.common.ratelimit import RateLimitConfig

    state = AtlassianState()
    seed(state, {"orgs": [{
        "id": ORG_ID, "name": "Bench Corp",
        "domains": [{"id": "dom", "name": DOMAIN, "claim_status": "verified", "claim_type": "dns"}],
        "directories": [{"id": "dir-main", "name": "Bench directory"}],
        "api_keys": [{"id": "key-admin", "secret": ORG_KEY}],
        "scim_directories": [{"id": SCIM_DIRECTORY,
                              "api_key": {"id": "key-scim", "secret": SCIM_KEY}}],
    }]})  # fmt: skip
    parts = EmulatorParts(state)
    if limit_per_second:
        parts.limiter.configure(RateLimitConfig(capacity=limit_per_second, period_seconds=1.0))
    else:
        parts.limiter.configure(RateLimitConfig(enabled=False))
    uvicorn.run(create_app(parts=parts), host=LOOPBACK, port=port, log_level="warning",
                access_log=False)  # fmt: skip


@contextmanager
def emulator(limit_per_second: int = 0) -> Any:
    from offboard_emulators.common.server import free_port

    port = free_port()
    with child_process(_serve, (port, limit_per_second), port) as pid:
        yield f"http://{LOOPBACK}:{port}", pid


class Counting(httpx.AsyncBaseTransport):
    """Counts requests by method and notes when each was sent (for the per-second peak)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.methods: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.sent_at: list[float] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.methods[request.method] += 1
        self.sent_at.append(time.monotonic())
        response = await self.inner.handle_async_request(request)
        self.statuses[response.status_code] += 1
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()

    def peak_per_second(self) -> int:
        """The most requests sent in any one-second window."""
        times, best, start = self.sent_at, 0, 0
        for end, at in enumerate(times):
            while at - times[start] >= 1.0:
                start += 1
            best = max(best, end - start + 1)
        return best


def people(users: int, groups: int) -> Any:
    from offboard.core.identities import IdentityId
    from offboard.core.provisioning_model import People, Person, SelectedGroup

    selected = tuple(
        SelectedGroup(f"kc-g-{g:05d}", f"/atlassian/team-{g:05d}", f"team-{g:05d}")
        for g in range(groups)
    )
    persons = tuple(
        Person(
            IdentityId(f"kc-u-{n:06d}"),
            f"user-{n:06d}",
            f"user-{n:06d}@{DOMAIN}",
            "User",
            f"{n:06d}",
            groups=frozenset({selected[n % groups].path}),
        )
        for n in range(users)
    )
    return People(persons, selected, datetime.now(UTC), True)


def wiring(url: str, transport: Counting, rate: float, store_path: Path) -> Any:
    from offboard.adapters.atlassian import AtlassianDirectory
    from offboard.adapters.atlassian_scim.provisioning import ScimProvisioner
    from offboard.adapters.atlassian_scim.provisioning_target import ProvisioningTarget
    from offboard.store import open_store

    directory = AtlassianDirectory(
        org_id=ORG_ID, org_key=ORG_KEY, base_url=url, scim_directory_id=SCIM_DIRECTORY,
        scim_key=SCIM_KEY, rate_per_second=rate, burst=max(1, int(min(rate, 50))),
        transport=transport,
    )  # fmt: skip
    assert directory.scim is not None
    provisioner = ScimProvisioner(directory.scim)
    return directory, provisioner, ProvisioningTarget(provisioner), open_store(store_path)


async def first_sync(url: str, users: int, groups: int, scratch: Path) -> dict[str, Any]:
    from offboard.core.guards import ProvisioningThresholds
    from offboard.core.plan import GuardName
    from offboard.core.provisioning import plan_provisioning
    from offboard.ports import SystemClock
    from offboard.service.provisioning import apply_provisioning

    transport = Counting()
    directory, provisioner, target, store = wiring(url, transport, 10_000.0, scratch / "s.db")
    clock = SystemClock()
    wall, cpu = time.perf_counter(), time.process_time()
    scim = await provisioner.read_all(frozenset())
    read_requests = transport.methods.total()
    plan = plan_provisioning(
        people(users, groups), scim, thresholds=ProvisioningThresholds(),
        overrides=frozenset({GuardName.MAX_CREATES}),
    )  # fmt: skip
    run_id = store.start_run("provision", clock.now())
    reports = await apply_provisioning(plan, target, store=store, clock=clock, run_id=run_id)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    done = sum(1 for r in reports for o in r.outcomes if o.readback is not None)
    recheck = await one_recheck(url, users, groups, scratch)
    await directory.aclose()
    store.close()
    return {
        "users": users,
        "groups": groups,
        "actions": len(plan.actions),
        "actions_verified": done,
        "requests": transport.methods.total(),
        "read_requests": read_requests,
        "by_method": dict(transport.methods),
        "statuses": {str(k): v for k, v in transport.statuses.items()},
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "requests_per_s": round(transport.methods.total() / wall, 1),
        "recheck": recheck,
    }


async def one_recheck(url: str, users: int, groups: int, scratch: Path) -> dict[str, Any]:
    """A mover on the full directory: read only what concerns them, plan, apply."""
    from dataclasses import replace

    from offboard.core.guards import ProvisioningThresholds
    from offboard.core.provisioning import plan_provisioning
    from offboard.ports import SystemClock
    from offboard.service.provisioning import apply_provisioning

    transport = Counting()
    directory, provisioner, target, store = wiring(url, transport, 10_000.0, scratch / "r.db")
    wall = time.perf_counter()
    everyone = people(users, groups)
    mover = replace(everyone.people[0], groups=frozenset({everyone.groups[1 % groups].path}))
    names = [everyone.groups[0].name, everyone.groups[1 % groups].name]
    scim = await provisioner.read_targeted([(mover.id, mover.email)], names)
    targeted = replace(everyone, people=(mover,), groups=everyone.groups[:2], targeted=True)
    plan = plan_provisioning(targeted, scim, thresholds=ProvisioningThresholds())
    run_id = store.start_run("recheck", SystemClock().now())
    await apply_provisioning(plan, target, store=store, clock=SystemClock(), run_id=run_id)
    wall = time.perf_counter() - wall
    await directory.aclose()
    store.close()
    return {
        "requests": transport.methods.total(),
        "actions": len(plan.actions),
        "wall_s": round(wall, 3),
    }


async def throttled(url: str, rate: float, scratch: Path, users: int) -> dict[str, Any]:
    """Creates at the client limit against an emulator limiting at the same rate."""
    from offboard.core.guards import ProvisioningThresholds
    from offboard.core.provisioning import plan_provisioning
    from offboard.ports import SystemClock
    from offboard.service.provisioning import apply_provisioning

    transport = Counting()
    directory, provisioner, target, store = wiring(url, transport, rate, scratch / "t.db")
    scim = await provisioner.read_all(frozenset())
    plan = plan_provisioning(people(users, 1), scim, thresholds=ProvisioningThresholds())
    started = time.perf_counter()
    run_id = store.start_run("throttled", SystemClock().now())
    await apply_provisioning(plan, target, store=store, clock=SystemClock(), run_id=run_id)
    wall = time.perf_counter() - started
    await directory.aclose()
    store.close()
    return {
        "limit_per_s": rate,
        "requests": transport.methods.total(),
        "peak_per_s": transport.peak_per_second(),
        "mean_per_s": round(transport.methods.total() / wall, 1),
        "429s": transport.statuses.get(429, 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=5_000)
    parser.add_argument("--limit", type=float, default=10.0, help="client limit, requests/s")
    parser.add_argument("--throttled-users", type=int, default=60)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        with emulator() as (url, pid):
            figures = asyncio.run(first_sync(url, args.users, args.groups, scratch))
            figures["emulator_cpu_s"] = round(cpu_seconds((pid,)), 1)
        with emulator(int(args.limit)) as (url, _):
            figures["throttled"] = asyncio.run(
                throttled(url, args.limit, scratch, args.throttled_users)
            )
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    figures["limit_per_s"] = args.limit
    figures["hours_at_limit"] = round(figures["requests"] / args.limit / 3600, 2)
    figures["measured_at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(json.dumps(figures, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"saved to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
