"""Planner scale benchmark: time and peak memory of ``plan`` for 10k to 1M identities.

Each size gets as many identities as accounts, every pair linked, and about 2% leavers
(confirmed disables and confirmed deletions). The build of the test data is not timed.
Time (wall and CPU) is the best of ``--repeat`` runs; memory is the peak traced by
tracemalloc during one more run (tracemalloc slows Python down, so that run is not timed).
The calibration line says how loaded the machine is: on an idle core a million dict
look-ups take about 0.05 CPU seconds.

    .venv/bin/python benchmarks/bench_planner.py --sizes 10000,100000,1000000
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from offboard.core.accounts import Account, AccountId
from offboard.core.identities import Identity, IdentityId, Lockout
from offboard.core.links import Link
from offboard.core.planning import PlanContext, plan
from offboard.core.policy import Policy
from offboard.core.snapshots import SourceSnapshot, TargetSnapshot

NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
DOMAIN = "bench.example"
NO_ATTRIBUTES: dict[str, tuple[str, ...]] = {}


@dataclass(frozen=True)
class Inputs:
    source: SourceSnapshot
    target: TargetSnapshot
    links: list[Link]


def build(size: int, leaver_every: int) -> Inputs:
    """``size`` linked people; every ``leaver_every``-th is disabled, every other such deleted."""
    identities: list[Identity] = []
    accounts: list[Account] = []
    links: list[Link] = []
    deleted: set[IdentityId] = set()
    linked_at = NOW - timedelta(days=90)
    for n in range(size):
        identity_id = IdentityId(f"{n:08x}-7d1c-4b1e-9a55-{n:012x}")
        account_id = AccountId(f"557058:{n:032x}")
        email = f"person{n}@{DOMAIN}"
        leaver = n % leaver_every == 0
        if leaver and n % (2 * leaver_every) == 0:
            deleted.add(identity_id)
        else:
            identities.append(
                Identity(
                    id=identity_id,
                    username=f"person{n}",
                    email=email,
                    enabled=not leaver,
                    attributes=NO_ATTRIBUTES,
                    lockout=Lockout.NONE,
                    disable_confirmed=leaver,
                )
            )
        accounts.append(Account(id=account_id, email=email, name=f"Person {n}"))
        links.append(Link(identity_id, account_id, email, linked_at=linked_at))
    source = SourceSnapshot(tuple(identities), NOW, True, deleted=frozenset(deleted))
    target = TargetSnapshot(tuple(accounts), NOW, True, verified_domains=frozenset({DOMAIN}))
    return Inputs(source, target, links)


def run_once(inputs: Inputs, policy: Policy, context: PlanContext) -> int:
    return len(plan(inputs.source, inputs.target, inputs.links, policy, context).actions)


@dataclass(frozen=True)
class Figures:
    wall: float
    cpu: float
    peak_mib: float | None
    actions: int


def measure(size: int, repeat: int, memory: bool, first_run: bool) -> Figures:
    inputs = build(size, leaver_every=50)
    if first_run:
        inputs = Inputs(inputs.source, inputs.target, [])
    policy, context = Policy(), PlanContext(now=NOW, previous_source_count=size)
    wall = cpu = float("inf")
    actions = 0
    gc.collect()
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        actions = run_once(inputs, policy, context)
        wall = min(wall, time.perf_counter() - started)
        cpu = min(cpu, time.process_time() - started_cpu)
    peak_mib = None
    if memory:
        gc.collect()
        tracemalloc.start()
        run_once(inputs, policy, context)
        peak_mib = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return Figures(wall, cpu, peak_mib, actions)


def calibrate() -> float:
    """CPU seconds for a million dict look-ups: says how fast this machine is right now."""
    keys = [f"key-{n}" for n in range(1_000_000)]
    table = dict.fromkeys(keys)
    started = time.process_time()
    for key in keys:
        table.get(key)
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per size (best kept)")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc run")
    parser.add_argument(
        "--first-run", action="store_true", help="no stored links: every pair is matched by email"
    )
    args = parser.parse_args()
    print(f"calibration: 1M dict look-ups take {calibrate():.3f} CPU s on this machine now")
    print(
        f"{'identities':>10}  {'actions':>7}  {'wall s':>7}  {'cpu s':>7}  "
        f"{'µs/identity':>11}  {'peak MiB':>8}  {'B/identity':>10}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        got = measure(size, args.repeat, not args.no_memory, args.first_run)
        peak = f"{got.peak_mib:8.1f}" if got.peak_mib is not None else f"{'-':>8}"
        per_byte = (
            f"{got.peak_mib * 2**20 / size:10.0f}" if got.peak_mib is not None else f"{'-':>10}"
        )
        print(
            f"{size:>10}  {got.actions:>7}  {got.wall:7.3f}  {got.cpu:7.3f}  "
            f"{1e6 * got.cpu / size:11.2f}  {peak}  {per_byte}",
            flush=True,
        )


if __name__ == "__main__":
    main()
