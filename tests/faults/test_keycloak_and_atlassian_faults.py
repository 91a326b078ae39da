"""The fault matrix, full reconciliation with Keycloak or Atlassian misbehaving: the fault,
then (where the scenario says) a clean run after it.

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
from tests.faults.rig import EXPIRED_KEY, record, running_rig

pytestmark = [pytest.mark.slow]


# -- full reconciliation: Keycloak misbehaves ------------------------------------------------


async def test_no_fault(tmp_path: Path) -> None:
    with running_rig(tmp_path) as rig:
        await rig.reconcile()
        record(rig.verdict("none (baseline)", "reconcile"))


async def test_keycloak_5xx_mid_walk(tmp_path: Path) -> None:
    with running_rig(tmp_path) as rig:
        rig.kc.faults.configure(FaultConfig(fail_nth=[FailNth("/users", 3, 503, "GET", 30)]))
        await attempt(rig, rig.reconcile())
        rig.kc.faults.configure(FaultConfig())
        await rig.reconcile()
        record(rig.verdict("Keycloak 503 on the 2nd listing page, 30 times", "reconcile"))


@pytest.mark.timeout(300)  # waits out 2 s client timeouts and their retries: ~55 s when quiet
async def test_keycloak_page_times_out(tmp_path: Path) -> None:
    with running_rig(tmp_path) as rig:
        rig.kc.realm.configure_faults(KeycloakFaults(page_latency_ms=3000))
        await attempt(rig, rig.reconcile())
        rig.kc.realm.configure_faults(KeycloakFaults())
        await rig.reconcile()
        record(rig.verdict("Keycloak listing pages take 3 s (client timeout 2 s)", "reconcile"))


async def test_user_deleted_during_the_walk(tmp_path: Path) -> None:
    with running_rig(tmp_path) as rig:
        rig.kc.realm.configure_faults(KeycloakFaults(delete_during_paging=1))
        await attempt(rig, rig.reconcile())
        rig.kc.realm.configure_faults(KeycloakFaults())
        await rig.reconcile()
        record(rig.verdict("a user deleted between two listing pages", "reconcile"))


async def test_user_count_drops_by_half(tmp_path: Path) -> None:
    with running_rig(tmp_path) as rig:
        await rig.reconcile()
        realm = rig.kc.realm
        hidden = [realm.remove_user(rig.world.identity_ids[n]) for n in range(0, 60, 2)
                  if n % 20 != 19]  # fmt: skip
        await attempt(rig, rig.reconcile())
        for user in hidden:
            realm.add_user(user)
        await rig.reconcile()
        record(rig.verdict("half the users vanish from Keycloak (then come back)", "reconcile"))


async def test_spurious_disabled_reads(tmp_path: Path) -> None:
    with running_rig(tmp_path) as rig:
        rig.kc.realm.configure_faults(KeycloakFaults(spurious_disabled_rate=0.2, seed=7))
        for _ in range(3):  # three passes; serial reads, so the same draws every time
            await attempt(rig, rig.reconcile(concurrency=1))
        rig.kc.realm.configure_faults(KeycloakFaults())
        await rig.reconcile()
        record(
            rig.verdict("20% of reads show enabled users as enabled:false (3 passes)", "reconcile")
        )


async def test_temporary_lockouts(tmp_path: Path) -> None:
    with running_rig(tmp_path) as rig:
        with locked_out(rig, NON_LEAVERS):
            await attempt(rig, rig.reconcile())
        await rig.reconcile()
        record(rig.verdict("3 people locked out, shown as enabled:false", "reconcile"))


# -- full reconciliation: Atlassian misbehaves -----------------------------------------------


async def test_429_storm_with_retry_after(tmp_path: Path) -> None:
    with running_rig(tmp_path) as rig:
        rig.at.limiter.configure(RateLimitConfig(capacity=2, period_seconds=1))
        await attempt(rig, rig.reconcile())
        rig.at.limiter.configure(RateLimitConfig(enabled=False))
        await rig.reconcile()
        record(rig.verdict("Atlassian 429 storm (2 req/s per route), Retry-After", "reconcile"))


async def test_429_storm_without_retry_after(tmp_path: Path) -> None:
    with running_rig(tmp_path) as rig:
        limits = RateLimitConfig(capacity=2, period_seconds=1, retry_after=False)
        rig.at.limiter.configure(limits)
        await attempt(rig, rig.reconcile())
        rig.at.limiter.configure(RateLimitConfig(enabled=False))
        await rig.reconcile()
        record(rig.verdict("Atlassian 429 storm, no Retry-After (reset header only)",
                           "reconcile"))  # fmt: skip


async def test_503_bursts(tmp_path: Path) -> None:
    with running_rig(tmp_path) as rig:
        rig.at.faults.configure(FaultConfig(error_rate=0.3, error_status=503, seed=3))
        await attempt(rig, rig.reconcile())
        rig.at.faults.configure(FaultConfig())
        await rig.reconcile()
        record(rig.verdict("Atlassian answers 503 to 30% of requests", "reconcile"))


async def test_expired_atlassian_key(tmp_path: Path) -> None:
    with running_rig(tmp_path) as rig:
        await attempt(rig, rig.reconcile(key=EXPIRED_KEY))
        await rig.reconcile()
        record(rig.verdict("expired Atlassian API key (then a valid one)", "reconcile"))
