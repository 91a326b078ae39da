"""The fault matrix, waves: a mass disable that arrives as many small plans, against a
deprovisioning budget of 10 per hour (issue 11).

60 people, all linked by a clean reconciliation; then 30 are disabled at once and the paths
that act run as the scenario says, each with its own store connection. The figure that must
be 0 is "deprovisioned beyond the budget": requests that reached Atlassian past the 10 slots
before a human released the hold. Then the hold is released as `offboard hold release`
does, and the row is judged like every other (all leavers done, nothing wrongful, lost or
repeated).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest

from offboard.core.budget import Budget, BudgetWindow
from offboard.core.holds import DEPROVISIONING
from offboard.core.identities import IdentityId
from offboard.core.policy import Policy, Thresholds
from offboard.ports import SystemClock
from offboard.service.holds import release_hold
from offboard.service.reconciling import recheck_identity, reconcile
from tests.faults.rig import DOMAIN, Rig, _serving, record

pytestmark = [pytest.mark.slow]

BUDGET = Budget((BudgetWindow("hour", timedelta(hours=1), 10, 100.0),), min_population=0)
POLICY = Policy(domains=frozenset({DOMAIN}), budget=BUDGET)
WAVE = 30


@contextlib.asynccontextmanager
async def wave_rig(tmp: Path) -> AsyncIterator[tuple[Rig, list[int]]]:
    with _serving(tmp, None) as rig:
        await rig.reconcile()
        wave = list(range(WAVE))
        with rig.kc.realm.lock:
            for n in wave:
                rig.kc.realm.users[rig.world.identity_ids[n]].enabled = False
        rig.reports.clear()
        yield rig, wave


async def _recheck(rig: Rig, n: int) -> None:
    store = rig.open()
    try:
        async with rig.source() as kc, rig.directory() as at:
            report = await recheck_identity(
                IdentityId(rig.world.identity_ids[n]), source=kc, directory=at, store=store,
                policy=POLICY, clock=SystemClock(),
            )  # fmt: skip
    finally:
        store.close()
    rig.reports.append(report.status)


async def _full(rig: Rig, policy: Policy = POLICY) -> None:
    store = rig.open()
    try:
        async with rig.source() as kc, rig.directory() as at:
            report = await reconcile(source=kc, directory=at, store=store, policy=policy,
                                     clock=SystemClock(), apply=True)  # fmt: skip
    finally:
        store.close()
    rig.reports.append(f"full pass {report.status}")


def _disables(rig: Rig) -> int:
    return sum(
        1
        for entry in rig.at.log.entries()
        if entry.method == "POST" and entry.path.endswith("/manage/lifecycle/disable")
    )


async def _judge(rig: Rig, fault: str, run: Callable[[], Awaitable[object]]) -> None:
    await run()
    sent = _disables(rig)
    store = rig.open()
    try:
        hold = store.active_hold(DEPROVISIONING)
        held = len(hold.people) if hold is not None else 0
        async with rig.source() as kc, rig.directory() as at:
            await release_hold(store=store, source=kc, directory=at, policy=POLICY,
                               clock=SystemClock(), by="matrix", reason="reviewed")  # fmt: skip
    finally:
        store.close()
    statuses = sorted(set(rig.reports))
    during = (
        f"sent {sent} before the release, {held} held ({', '.join(statuses)}); "
        "released: the rest re-planned and done"
    )
    row = rig.verdict(fault, "wave", during)
    row.beyond_budget = max(0, sent - 10)
    record(row)


async def test_wave_of_rechecks_at_once(tmp_path: Path) -> None:
    async with wave_rig(tmp_path) as (rig, wave):

        async def run() -> None:
            await asyncio.gather(*(_recheck(rig, n) for n in wave))

        await _judge(rig, "30 disabled at once, 30 concurrent re-checks", run)


async def test_wave_judged_by_a_full_pass_then_rechecks(tmp_path: Path) -> None:
    async with wave_rig(tmp_path) as (rig, wave):
        strict = Policy(domains=POLICY.domains, budget=BUDGET, thresholds=Thresholds())

        async def run() -> None:
            await _full(rig, strict)  # 30 > 25: the guard puts the hold
            await asyncio.gather(*(_recheck(rig, n) for n in wave))

        await _judge(rig, "30 disabled while no daemon ran: blocked full pass, then re-checks",
                     run)  # fmt: skip


async def test_wave_across_every_path_at_once(tmp_path: Path) -> None:
    async with wave_rig(tmp_path) as (rig, wave):
        lenient = Policy(
            domains=POLICY.domains, budget=BUDGET, thresholds=Thresholds(max_deactivations=100)
        )

        async def run() -> None:
            await asyncio.gather(
                *(_recheck(rig, n) for n in wave[:15]),
                _full(rig, lenient),  # the daemon's pass
                _full(rig, lenient),  # a cron `offboard apply --yes` beside it
            )

        await _judge(rig, "30 disabled: 15 re-checks, a full pass and a CLI apply at once", run)
