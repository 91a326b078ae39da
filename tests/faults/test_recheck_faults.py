"""The fault matrix, the daemon's re-check of single people: a clean start-up reconciliation
while nobody has left, then the leavers leave and only re-checks run, under the fault and
after it.

Each row is judged the same way (``Rig.verdict``): every true leaver's account inactive at the
end, no non-leaver's account written to or changed, no journal intent left without an
outcome and no vendor effect without its journaled success, no effect carried out twice.
``benchmarks/faults.py`` runs ``tests/faults`` and writes ``docs/reliability.md`` from the rows.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from offboard_emulators.common.faults import FailNth, FaultConfig
from offboard_emulators.common.ratelimit import RateLimitConfig
from offboard_emulators.keycloak.state import KeycloakFaults
from tests.faults.helpers import NON_LEAVERS, attempt, locked_out
from tests.faults.rig import EXPIRED_KEY, daemon_rig, record

pytestmark = [pytest.mark.slow]


async def test_recheck_no_fault(tmp_path: Path) -> None:
    async with daemon_rig(tmp_path) as rig:
        for n in rig.world.leavers:
            await rig.recheck(n)
        await rig.recheck(NON_LEAVERS[0])
        record(rig.verdict("none (baseline)", "recheck"))


async def test_recheck_keycloak_5xx_on_read_by_id(tmp_path: Path) -> None:
    async with daemon_rig(tmp_path) as rig:
        leaver = rig.world.disabled[0]
        path = f"/users/{rig.world.identity_ids[leaver]}"
        rig.kc.faults.configure(FaultConfig(fail_nth=[FailNth(path, 1, 500, "GET", 30)]))
        await attempt(rig, rig.recheck(leaver))
        rig.kc.faults.configure(FaultConfig())
        for n in rig.world.leavers:
            await rig.recheck(n)
        record(rig.verdict("Keycloak 500 on the read by id, 30 times", "recheck"))


async def test_recheck_spurious_disabled_reads(tmp_path: Path) -> None:
    async with daemon_rig(tmp_path) as rig:
        rig.kc.realm.configure_faults(KeycloakFaults(spurious_disabled_rate=0.2, seed=11))
        stayers = [n for n in range(60) if n not in rig.world.leavers][:25]
        for n in stayers:
            await attempt(rig, rig.recheck(n))
        rig.kc.realm.configure_faults(KeycloakFaults())
        for n in rig.world.leavers:
            await rig.recheck(n)
        record(rig.verdict("20% of reads show enabled users as enabled:false (25 re-checks)",
                           "recheck"))  # fmt: skip


async def test_recheck_temporary_lockout(tmp_path: Path) -> None:
    async with daemon_rig(tmp_path) as rig:
        with locked_out(rig, NON_LEAVERS):
            for n in NON_LEAVERS:
                await attempt(rig, rig.recheck(n))
        for n in rig.world.leavers:
            await rig.recheck(n)
        record(rig.verdict("locked-out people re-checked, shown as enabled:false", "recheck"))


async def test_recheck_429_storm(tmp_path: Path) -> None:
    async with daemon_rig(tmp_path) as rig:
        rig.at.limiter.configure(RateLimitConfig(capacity=1, period_seconds=1))
        for n in rig.world.leavers:
            await attempt(rig, rig.recheck(n))
        rig.at.limiter.configure(RateLimitConfig(enabled=False))
        for n in rig.world.leavers:
            await rig.recheck(n)
        record(rig.verdict("Atlassian 429 storm (1 req/s per route), Retry-After", "recheck"))


async def test_recheck_503_bursts(tmp_path: Path) -> None:
    async with daemon_rig(tmp_path) as rig:
        rig.at.faults.configure(FaultConfig(error_rate=0.3, error_status=503, seed=5))
        for n in rig.world.leavers:
            await attempt(rig, rig.recheck(n))
        rig.at.faults.configure(FaultConfig())
        for n in rig.world.leavers:
            await rig.recheck(n)
        record(rig.verdict("Atlassian answers 503 to 30% of requests", "recheck"))


async def test_recheck_expired_key(tmp_path: Path) -> None:
    async with daemon_rig(tmp_path) as rig:
        for n in rig.world.leavers:
            await attempt(rig, rig.recheck(n, key=EXPIRED_KEY))
        for n in rig.world.leavers:
            await rig.recheck(n)
        record(rig.verdict("expired Atlassian API key (then a valid one)", "recheck"))
