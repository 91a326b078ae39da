"""CPU of the steps of a full run between the Keycloak listing and the first write.

``bench_peer.py`` times whole processes; at 10,000 and 50,000 people these steps are a few
tenths of a second inside runs of 5 to 25 seconds whose apply phase varies by more than
that from run to run. This script times them alone, on generated data (``bench_planner``'s
world: everyone linked, every 50th a leaver), best of ``--repeat``:

* ``cast``: brief users of a listing (pages of 1,000, validated as the adapter does) into
  identities;
* ``links``: every link read from a SQLite store;
* ``covering``: what the Atlassian read must ask for, after the listing and again after
  Keycloak confirmed the leavers (the second time only for what the confirmation changed,
  where the checkout has ``needs_after_confirming``);
* ``plan``: the pure planner over the confirmed snapshot, and the plan as saved (JSON).

Compare two checkouts by running it from each (PYTHONPATH picks the source):

    .venv/bin/python benchmarks/bench_full_run_steps.py --sizes 10000,50000
    mkdir -p /tmp/before && git archive 8933bec src | tar -x -C /tmp/before
    PYTHONPATH=/tmp/before/src .venv/bin/python benchmarks/bench_full_run_steps.py
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import offboard
from bench_planner import NOW, build
from offboard.adapters.keycloak.casting import identity_from_listing
from offboard.adapters.keycloak.wire import USERS
from offboard.core import covering
from offboard.core.identities import Identity, Lockout
from offboard.core.plan_json import plan_to_json
from offboard.core.planning import PlanContext, plan
from offboard.core.policy import Policy
from offboard.core.snapshots import SourceSnapshot
from offboard.store import open_store

PAGE = 1000


def best(step: Callable[[], object], repeat: int) -> float:
    """Least CPU seconds of ``repeat`` runs of ``step``."""
    least = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        step()
        least = min(least, time.process_time() - started)
    return least


def pages(identities: tuple[Identity, ...]) -> list[bytes]:
    """The brief listing Keycloak would answer, a page per thousand users."""
    users: list[dict[str, Any]] = [
        {"id": i.id, "username": i.username, "email": i.email, "enabled": i.enabled,
         "createdTimestamp": 1_795_000_000_000 + n, "emailVerified": True,
         "firstName": "Person", "lastName": str(n)}
        for n, i in enumerate(identities)
    ]  # fmt: skip
    return [json.dumps(users[s : s + PAGE]).encode() for s in range(0, len(users), PAGE)]


def listed_form(confirmed: SourceSnapshot) -> SourceSnapshot:
    """The snapshot as listed, before confirmation: disables unconfirmed, deletions unknown."""
    unconfirmed = tuple(
        i if i.enabled else dataclasses.replace(i, lockout=Lockout.UNKNOWN, disable_confirmed=False)
        for i in confirmed.identities
    )
    return dataclasses.replace(confirmed, identities=unconfirmed, deleted=frozenset())


def covering_twice(
    listed: SourceSnapshot, confirmed: SourceSnapshot, links: list[Any], policy: Policy
) -> object:
    asked = covering.accounts_needed(listed, links, policy)
    again = getattr(covering, "needs_after_confirming", None)
    if again is not None:
        return again(listed, confirmed, links, policy, asked)
    return covering.accounts_needed(confirmed, links, policy) - asked  # before: all again


def measure(size: int, repeat: int) -> dict[str, float]:
    world = build(size, leaver_every=50)
    policy = Policy()
    confirmed, listed = world.source, listed_form(world.source)
    raw = pages(world.source.identities)
    validated = [USERS.validate_json(page) for page in raw]
    figures = {
        "cast": best(lambda: [identity_from_listing(u) for p in validated for u in p], repeat)
    }
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(Path(folder) / "offboard.sqlite3")
        store.upsert_links(world.links)
        figures["links"] = best(store.links, repeat)
        links = store.links()
        store.close()
    figures["covering"] = best(lambda: covering_twice(listed, confirmed, links, policy), repeat)
    context = PlanContext(now=NOW, previous_source_count=size)
    made = plan(confirmed, world.target, links, policy, context)
    figures["plan"] = best(lambda: plan(confirmed, world.target, links, policy, context), repeat)
    figures["plan JSON"] = best(lambda: plan_to_json(made), repeat)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,50000", help="comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="runs per step (least CPU kept)")
    args = parser.parse_args()
    print(f"offboard from {Path(offboard.__file__).parent}")
    steps = ("cast", "links", "covering", "plan", "plan JSON")
    print(f"{'people':>8}  " + "  ".join(f"{s:>10}" for s in steps) + f"  {'total':>8}  (CPU s)")
    for size in (int(s) for s in args.sizes.split(",")):
        got = measure(size, args.repeat)
        cells = "  ".join(f"{got[s]:10.3f}" for s in steps)
        print(f"{size:>8}  {cells}  {sum(got.values()):8.3f}")


if __name__ == "__main__":
    main()
