"""The fault matrix: each fault against full reconciliation or the daemon's re-check, on a seeded
directory with known leavers; then, where the scenario says, a clean run after the fault.

Each row is judged the same way (``Rig.verdict``): every true leaver's account inactive at the
end, no non-leaver's account written to or changed, no journal intent left without an
outcome and no vendor effect without its journaled success, no effect carried out twice.
``benchmarks/faults.py`` runs this module and writes ``docs/reliability.md`` from the rows.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from offboard.core.journal import Phase
from offboard.store import open_store
from offboard_emulators.common.faults import FailNth, FaultConfig
from offboard_emulators.common.ratelimit import RateLimitConfig
from offboard_emulators.keycloak.login import LoginFailures
from offboard_emulators.keycloak.state import KeycloakFaults
from tests.faults.rig import EXPIRED_KEY, Rig, daemon_rig, record, running_rig

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).parents[2]
NON_LEAVERS = [3, 4, 5]
"""People who never leave; some scenarios aim their fault at them."""


async def _attempt(rig: Rig, run: object) -> None:
    """A run that may raise: the error goes into the 'during' column, never out of the test."""
    try:
        await run  # type: ignore[misc]
    except Exception as error:
        rig.reports.append(f"raised {type(error).__name__}: {str(error)[:90]}")


# -- full reconciliation: Keycloak misbehaves ------------------------------------------------


async def test_no_fault(tmp_path: Path) -> None:
    with running_rig(tmp_path) as rig:
        await rig.reconcile()
        record(rig.verdict("none (baseline)", "reconcile"))


async def test_keycloak_5xx_mid_walk(tmp_path: Path) -> None:
    with running_rig(tmp_path) as rig:
        rig.kc.faults.configure(FaultConfig(fail_nth=[FailNth("/users", 3, 503, "GET", 30)]))
        await _attempt(rig, rig.reconcile())
        rig.kc.faults.configure(FaultConfig())
        await rig.reconcile()
        record(rig.verdict("Keycloak 503 on the 2nd listing page, 30 times", "reconcile"))


async def test_keycloak_page_times_out(tmp_path: Path) -> None:
    with running_rig(tmp_path) as rig:
        rig.kc.realm.configure_faults(KeycloakFaults(page_latency_ms=3000))
        await _attempt(rig, rig.reconcile())
        rig.kc.realm.configure_faults(KeycloakFaults())
        await rig.reconcile()
        record(rig.verdict("Keycloak listing pages take 3 s (client timeout 2 s)", "reconcile"))


async def test_user_deleted_during_the_walk(tmp_path: Path) -> None:
    with running_rig(tmp_path) as rig:
        rig.kc.realm.configure_faults(KeycloakFaults(delete_during_paging=1))
        await _attempt(rig, rig.reconcile())
        rig.kc.realm.configure_faults(KeycloakFaults())
        await rig.reconcile()
        record(rig.verdict("a user deleted between two listing pages", "reconcile"))


async def test_user_count_drops_by_half(tmp_path: Path) -> None:
    with running_rig(tmp_path) as rig:
        await rig.reconcile()
        realm = rig.kc.realm
        hidden = [realm.remove_user(rig.world.identity_ids[n]) for n in range(0, 60, 2)
                  if n % 20 != 19]  # fmt: skip
        await _attempt(rig, rig.reconcile())
        for user in hidden:
            realm.add_user(user)
        await rig.reconcile()
        record(rig.verdict("half the users vanish from Keycloak (then come back)", "reconcile"))


SPURIOUS = pytest.mark.xfail(
    strict=True,
    reason="known finding: two serial reads confirm a spurious enabled:false with p**2 "
    "(Keycloak adapter confirmation; see docs/reliability.md, Findings)",
)


@SPURIOUS
async def test_spurious_disabled_reads(tmp_path: Path) -> None:
    with running_rig(tmp_path) as rig:
        rig.kc.realm.configure_faults(KeycloakFaults(spurious_disabled_rate=0.2, seed=7))
        for _ in range(3):  # three passes; serial reads, so the same draws every time
            await _attempt(rig, rig.reconcile(concurrency=1))
        rig.kc.realm.configure_faults(KeycloakFaults())
        await rig.reconcile()
        record(
            rig.verdict("20% of reads show enabled users as enabled:false (3 passes)", "reconcile")
        )


@contextmanager
def locked_out(rig: Rig, people: list[int]) -> Iterator[None]:
    """Temporary brute-force lockouts, shown as ``enabled:false`` as 26.3-era servers did."""
    realm, logins = rig.kc.realm, rig.kc.logins
    now = realm.now_ms()
    for n in people:
        logins.failures[rig.world.identity_ids[n]] = LoginFailures(30, now, now + 900_000, 1)
    realm.lockout_reports_disabled = True
    try:
        yield
    finally:
        realm.lockout_reports_disabled = False
        for n in people:
            logins.failures.pop(rig.world.identity_ids[n], None)


async def test_temporary_lockouts(tmp_path: Path) -> None:
    with running_rig(tmp_path) as rig:
        with locked_out(rig, NON_LEAVERS):
            await _attempt(rig, rig.reconcile())
        await rig.reconcile()
        record(rig.verdict("3 people locked out, shown as enabled:false", "reconcile"))


# -- full reconciliation: Atlassian misbehaves -----------------------------------------------


async def test_429_storm_with_retry_after(tmp_path: Path) -> None:
    with running_rig(tmp_path) as rig:
        rig.at.limiter.configure(RateLimitConfig(capacity=2, period_seconds=1))
        await _attempt(rig, rig.reconcile())
        rig.at.limiter.configure(RateLimitConfig(enabled=False))
        await rig.reconcile()
        record(rig.verdict("Atlassian 429 storm (2 req/s per route), Retry-After", "reconcile"))


async def test_429_storm_without_retry_after(tmp_path: Path) -> None:
    with running_rig(tmp_path) as rig:
        limits = RateLimitConfig(capacity=2, period_seconds=1, retry_after=False)
        rig.at.limiter.configure(limits)
        await _attempt(rig, rig.reconcile())
        rig.at.limiter.configure(RateLimitConfig(enabled=False))
        await rig.reconcile()
        record(rig.verdict("Atlassian 429 storm, no Retry-After (reset header only)",
                           "reconcile"))  # fmt: skip


async def test_503_bursts(tmp_path: Path) -> None:
    with running_rig(tmp_path) as rig:
        rig.at.faults.configure(FaultConfig(error_rate=0.3, error_status=503, seed=3))
        await _attempt(rig, rig.reconcile())
        rig.at.faults.configure(FaultConfig())
        await rig.reconcile()
        record(rig.verdict("Atlassian answers 503 to 30% of requests", "reconcile"))


async def test_expired_atlassian_key(tmp_path: Path) -> None:
    with running_rig(tmp_path) as rig:
        await _attempt(rig, rig.reconcile(key=EXPIRED_KEY))
        await rig.reconcile()
        record(rig.verdict("expired Atlassian API key (then a valid one)", "reconcile"))


# -- full reconciliation: offboard's own process and store ------------------------------------


async def test_sigkill_during_apply(tmp_path: Path) -> None:
    with running_rig(tmp_path) as rig:
        rig.at.faults.configure(FaultConfig(latency_ms=300))
        code = await asyncio.to_thread(_kill_mid_apply, rig)
        rig.reports.append(f"child killed (exit {code})")
        rig.at.faults.configure(FaultConfig())
        await rig.reconcile()
        record(rig.verdict("SIGKILL of offboard during apply (subprocess)", "reconcile"))


def _kill_mid_apply(rig: Rig) -> int:
    """Start a reconciliation in a child process and SIGKILL it inside its first action."""
    command = [sys.executable, "-m", "tests.faults.kill_child", rig.kc_url, rig.at_url,
               str(rig.store_path)]  # fmt: skip
    child = subprocess.Popen(command, cwd=ROOT)
    try:
        _wait_for_intent(rig.store_path, child)
        time.sleep(0.75)  # mid-action: each of its requests takes 300 ms
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(30)
    return child.returncode


def _wait_for_intent(store_path: Path, child: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and child.poll() is None:
        store = open_store(store_path)
        try:
            if any(r.phase is Phase.INTENT for r in store.journal()):
                return
        finally:
            store.close()
        time.sleep(0.05)
    raise AssertionError("the child never journaled an intent")


async def test_store_locked_by_another_writer(tmp_path: Path) -> None:
    with running_rig(tmp_path) as rig:
        holder = sqlite3.connect(rig.store_path, check_same_thread=False)
        holder.execute("BEGIN EXCLUSIVE")
        release = threading.Timer(3.0, holder.rollback)
        release.start()
        try:
            await _attempt(rig, rig.reconcile())
        finally:
            release.join()
            holder.close()
        await rig.reconcile()
        record(rig.verdict("store file locked by another writer for 3 s", "reconcile"))


@contextmanager
def mounted(kind: str, target: Path, *options: str) -> Iterator[None]:
    """A mount (root only): skipped with the reason when the machine does not allow it."""
    target.mkdir(exist_ok=True)
    args = ["mount", *options, target] if kind == "bind" else ["mount", "-t", kind, *options,
                                                                kind, target]  # fmt: skip
    if os.geteuid() != 0 or subprocess.run(args, capture_output=True).returncode != 0:
        pytest.skip(f"cannot mount {kind} on {target} (needs root and mount rights)")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", target], check=False)


async def test_store_read_only(tmp_path: Path) -> None:
    with running_rig(tmp_path, tmp_path / "ro" / "state.db") as rig:
        readonly = tmp_path / "ro"
        with mounted("bind", readonly, "--bind", str(readonly)):
            remount = ["mount", "-o", "remount,ro,bind", str(readonly)]
            await asyncio.to_thread(subprocess.run, remount, check=True)
            await _attempt(rig, rig.reconcile())
        await rig.reconcile()
        record(rig.verdict("store file on a read-only mount (then writable)", "reconcile"))


async def test_disk_full_on_the_journal(tmp_path: Path) -> None:
    tmp, small = tmp_path, tmp_path / "small"
    with mounted("tmpfs", small, "-o", "size=16m"), running_rig(tmp, small / "state.db") as rig:
        filler = small / "filler"
        _fill(filler)
        await _attempt(rig, rig.reconcile())
        filler.unlink()
        await rig.reconcile()
        record(rig.verdict("disk full under the store (16 MB tmpfs, filled)", "reconcile"))


def _fill(path: Path) -> None:
    """Write zeros until the file system says ENOSPC (unbuffered, so close cannot fail)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(descriptor, b"\0" * 65536)
    except OSError:
        pass
    finally:
        os.close(descriptor)


# -- the daemon's re-check of one person ------------------------------------------------------


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
        await _attempt(rig, rig.recheck(leaver))
        rig.kc.faults.configure(FaultConfig())
        for n in rig.world.leavers:
            await rig.recheck(n)
        record(rig.verdict("Keycloak 500 on the read by id, 30 times", "recheck"))


@SPURIOUS
async def test_recheck_spurious_disabled_reads(tmp_path: Path) -> None:
    async with daemon_rig(tmp_path) as rig:
        rig.kc.realm.configure_faults(KeycloakFaults(spurious_disabled_rate=0.2, seed=11))
        stayers = [n for n in range(60) if n not in rig.world.leavers][:25]
        for n in stayers:
            await _attempt(rig, rig.recheck(n))
        rig.kc.realm.configure_faults(KeycloakFaults())
        for n in rig.world.leavers:
            await rig.recheck(n)
        record(rig.verdict("20% of reads show enabled users as enabled:false (25 re-checks)",
                           "recheck"))  # fmt: skip


async def test_recheck_temporary_lockout(tmp_path: Path) -> None:
    async with daemon_rig(tmp_path) as rig:
        with locked_out(rig, NON_LEAVERS):
            for n in NON_LEAVERS:
                await _attempt(rig, rig.recheck(n))
        for n in rig.world.leavers:
            await rig.recheck(n)
        record(rig.verdict("locked-out people re-checked, shown as enabled:false", "recheck"))


async def test_recheck_429_storm(tmp_path: Path) -> None:
    async with daemon_rig(tmp_path) as rig:
        rig.at.limiter.configure(RateLimitConfig(capacity=1, period_seconds=1))
        for n in rig.world.leavers:
            await _attempt(rig, rig.recheck(n))
        rig.at.limiter.configure(RateLimitConfig(enabled=False))
        for n in rig.world.leavers:
            await rig.recheck(n)
        record(rig.verdict("Atlassian 429 storm (1 req/s per route), Retry-After", "recheck"))


async def test_recheck_503_bursts(tmp_path: Path) -> None:
    async with daemon_rig(tmp_path) as rig:
        rig.at.faults.configure(FaultConfig(error_rate=0.3, error_status=503, seed=5))
        for n in rig.world.leavers:
            await _attempt(rig, rig.recheck(n))
        rig.at.faults.configure(FaultConfig())
        for n in rig.world.leavers:
            await rig.recheck(n)
        record(rig.verdict("Atlassian answers 503 to 30% of requests", "recheck"))


async def test_recheck_expired_key(tmp_path: Path) -> None:
    async with daemon_rig(tmp_path) as rig:
        for n in rig.world.leavers:
            await _attempt(rig, rig.recheck(n, key=EXPIRED_KEY))
        for n in rig.world.leavers:
            await rig.recheck(n)
        record(rig.verdict("expired Atlassian API key (then a valid one)", "recheck"))
