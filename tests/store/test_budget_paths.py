"""Every path that acts spends the one budget in the store, on every backend.

The paths are simulated as separate processes: each has its own store object (its own
connection pool) on the one database, as the daemon, a cron `apply` and a person at the CLI
would, and they all go through ``apply_plan``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offboard.core.budget import Budget, BudgetWindow
from offboard.core.journal import Status
from offboard.core.policy import ActionKind
from offboard.executor import apply_plan
from offboard.store import SqlStore, open_store
from tests.executor.fakes import FakeDirectory, account, action, plan_of

BUDGET_OF_10 = Budget((BudgetWindow("hour", timedelta(hours=1), 10, 100.0),), min_population=0)


@dataclass
class SimClock:
    """Time that moves only when the scenario says so."""

    at: datetime = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at


class TimedDirectory(FakeDirectory):
    """Remembers when each write was sent, by the scenario's clock."""

    clock: SimClock | None = None
    sent_at: list[datetime]

    async def execute(self, action: object) -> object:  # type: ignore[override]
        assert self.clock is not None
        self.sent_at.append(self.clock.now())
        return await super().execute(action)  # type: ignore[arg-type]


def directory_for(people: range, clock: SimClock) -> TimedDirectory:
    directory = TimedDirectory({f"acc-{n}": account(n) for n in people})
    directory.clock = clock
    directory.sent_at = []
    return directory


async def test_fifty_concurrent_rechecks_against_a_budget_of_10_send_exactly_10(
    store_url: str,
) -> None:
    clock = SimClock()
    directory = directory_for(range(50), clock)
    stores = [open_store(store_url) for _ in range(5)]
    try:
        reports = await asyncio.gather(
            *(
                apply_plan(
                    plan_of(action(n), fingerprint=f"recheck-{n}"),
                    directory=directory,
                    store=stores[n % 5],
                    clock=clock,
                    run_id=f"run-{n}",
                    budget=BUDGET_OF_10,
                )
                for n in range(50)
            )
        )
        hold = stores[0].active_hold("deprovisioning")
    finally:
        for opened in stores:
            opened.close()
    assert len(directory.sent) == 10
    held = [o for report in reports for o in report.outcomes if o.status is Status.HELD]
    assert len(held) == 40
    assert hold is not None
    assert len(hold.people) == 40


async def test_reactivations_spend_no_budget(store: SqlStore) -> None:
    clock = SimClock()
    directory = directory_for(range(20), clock)
    plan = plan_of(*(action(n, ActionKind.REACTIVATE) for n in range(20)))
    report = await apply_plan(
        plan, directory=directory, store=store, clock=clock, run_id="r", budget=BUDGET_OF_10
    )
    assert len(directory.sent) == 20
    assert report.held == ()
    assert store.budget_usage("deprovisioning", BUDGET_OF_10.limits(0), clock.now())[0].used == 0


# Steps: (path, people) runs a plan of that many new leavers through one process's store;
# ("wait", minutes) lets time pass. Steps in one group run at the same time.
PATHS = st.sampled_from(["recheck", "full", "cli-apply", "deactivate"])
STEP = st.one_of(
    st.tuples(PATHS, st.integers(min_value=1, max_value=6)),
    st.tuples(st.just("wait"), st.integers(min_value=1, max_value=90)),
)
SCENARIO = st.lists(st.lists(STEP, min_size=1, max_size=4), min_size=1, max_size=6)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(scenario=SCENARIO)
def test_no_interleaving_sends_more_than_the_budget_in_any_window(
    scenario: list[list[tuple[str, int]]], tmp_path_factory: object
) -> None:
    base = tmp_path_factory.mktemp("budget")  # type: ignore[attr-defined]
    sent = asyncio.run(_play(scenario, Path(base) / "store.sqlite3"))
    window = timedelta(hours=1)
    for at in sent:
        in_window = sum(1 for other in sent if at - window < other <= at)
        assert in_window <= 10, (at, in_window)


async def _play(scenario: list[list[tuple[str, int]]], path: Path) -> list[datetime]:
    clock = SimClock()
    directory = directory_for(range(200), clock)
    processes = {name: open_store(path) for name in ("recheck", "full", "cli-apply", "deactivate")}
    counter = 0
    try:
        for group in scenario:
            runs = []
            for path_name, amount in group:
                if path_name == "wait":
                    clock.at += timedelta(minutes=amount)
                    continue
                actions = [action(counter + k) for k in range(amount)]
                counter += amount
                plan = plan_of(*actions, fingerprint=f"{path_name}-{counter}")
                runs.append(
                    apply_plan(
                        plan,
                        directory=directory,
                        store=processes[path_name],
                        clock=clock,
                        run_id=f"{path_name}-{counter}",
                        budget=BUDGET_OF_10,
                    )
                )
            await asyncio.gather(*runs)
    finally:
        for opened in processes.values():
            opened.close()
    return directory.sent_at
