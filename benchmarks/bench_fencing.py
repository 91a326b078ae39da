"""What fencing costs an apply: the same plan applied with and without the leader fence.

Applies a plan of ``--actions`` deactivations to an in-memory directory (no network, so
the store is all that is measured) on a fresh SQLite store, once without a fence and once
fenced (a lease check before each request, the token checked in every journal
transaction). The two alternate ``--repeat`` times; the best of each is kept (a shared
machine is noisy). Prints milliseconds per action for each, and the difference.

    .venv/bin/python benchmarks/bench_fencing.py --actions 200 --repeat 5
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from offboard.core.accounts import Account, AccountId, AccountStatus
from offboard.core.identities import IdentityId
from offboard.core.plan import Action, Plan, Rule
from offboard.core.policy import ActionKind
from offboard.executor import apply_plan
from offboard.executor.preflight import NO_PREFLIGHT, Preflight
from offboard.ports import Fence, OperationResult, SystemClock
from offboard.store import open_store


@dataclass
class Directory:
    """Accounts in a dict: a write flips the status, a read returns it."""

    accounts: dict[str, Account] = field(default_factory=dict)

    async def read_account(self, account_id: AccountId) -> Account | None:
        return self.accounts.get(account_id)

    async def execute(self, action: Action) -> OperationResult:
        account = self.accounts[action.account_id]
        self.accounts[action.account_id] = replace(account, status=AccountStatus.INACTIVE)
        return OperationResult(204, True)


def _plan(size: int, now: datetime) -> tuple[Plan, Directory]:
    directory, actions = Directory(), []
    for n in range(size):
        account_id = AccountId(f"acc-{n:06d}")
        directory.accounts[account_id] = Account(account_id, f"p{n}@bench.example")
        actions.append(
            Action(
                ActionKind.DEACTIVATE,
                IdentityId(f"id-{n:06d}"),
                account_id,
                f"p{n}@bench.example",
                Rule.IDENTITY_DISABLED,
                "bench",
            )
        )
    plan = Plan(created_at=now, actions=tuple(actions), entries=(), guards=(), fingerprint="b")
    return plan, directory


async def _apply(path: Path, size: int, fenced: bool) -> float:
    store, clock = open_store(path), SystemClock()
    try:
        preflight = NO_PREFLIGHT
        if fenced:
            assert store.acquire_lease("daemon", "bench", timedelta(minutes=10), clock.now())
            token = store.lease_token("daemon", "bench", clock.now())
            assert token is not None
            preflight = Preflight(Fence("daemon", "bench", token))
        plan, directory = _plan(size, clock.now())
        started = time.perf_counter()
        report = await apply_plan(plan, directory=directory, store=store, clock=clock,  # type: ignore[arg-type]
                                  run_id="bench", preflight=preflight)  # fmt: skip
        elapsed = time.perf_counter() - started
        assert report.counts.get("succeeded") == size
        return elapsed
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--actions", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    size = min(options.actions, 5000)  # bounded: each action is 3 durable commits
    rounds = max(1, min(options.repeat, 20))
    times: dict[bool, list[float]] = {False: [], True: []}
    with tempfile.TemporaryDirectory() as scratch:
        for n in range(rounds):
            for fenced_run in (False, True):
                path = Path(scratch) / f"{n}-{fenced_run}.sqlite3"
                times[fenced_run].append(asyncio.run(_apply(path, size, fenced=fenced_run)))
    plain, fenced = min(times[False]), min(times[True])
    print(f"actions: {size}, best of {rounds} (SQLite, synchronous=FULL, in-memory directory)")
    print(f"unfenced: {1000 * plain / size:.2f} ms/action")
    print(f"fenced:   {1000 * fenced / size:.2f} ms/action")
    print(f"fencing:  {1000 * (fenced - plain) / size:+.2f} ms/action")
    print(f"at: {datetime.now(UTC).isoformat(timespec='seconds')}")


if __name__ == "__main__":
    main()
