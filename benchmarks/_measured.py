"""The measured side of ``bench_reconcile.py``: one reconciliation in a fresh process.

Only offboard runs in that process, so its wall time, CPU time and peak RSS are offboard's.
Requests are counted by vendor and kind; the snapshot and confirmation phases are timed by
thin wrappers around the adapters; after the run, one re-check is timed on the same store.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import resource
import time
from pathlib import Path
from typing import Any

from _harness import DOMAIN, ORG_ID, ORG_KEY, OWNER_ID


class Timed:
    """Delegates to an adapter and notes when its snapshot and confirmations start and end."""

    def __init__(self, inner: Any, side: str, marks: dict[str, float]) -> None:
        self._inner, self._side, self._marks = inner, side, marks

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def snapshot(self, *, progress: Any = None) -> Any:
        snapshot = await self._inner.snapshot(progress=progress)
        self._marks[f"{self._side} snapshot done"] = time.perf_counter()
        return snapshot

    async def confirm(self, snapshot: Any, candidates: Any) -> Any:
        self._marks["confirm start"] = time.perf_counter()
        confirmed = await self._inner.confirm(snapshot, candidates)
        self._marks["confirm done"] = time.perf_counter()
        return confirmed


def phases(marks: dict[str, float], started: float, ended: float) -> dict[str, float]:
    """Seconds spent reading both sides, confirming leavers, and planning plus applying.

    A run that reads only the Atlassian accounts it needs (``directory_read = "auto"``) takes
    no Atlassian snapshot: its reads count in the confirmation's phase, which they overlap."""
    snapshots = max(v for k, v in marks.items() if k.endswith("snapshot done"))
    confirm_start = marks.get("confirm start", snapshots)
    confirm_done = marks.get("confirm done", snapshots)
    return {
        "snapshots": round(snapshots - started, 2),
        "confirm": round(confirm_done - confirm_start, 2),
        "plan_apply_readback": round(ended - confirm_done, 2),
    }


def _measure(config: dict[str, Any], queue: Any) -> None:
    """Child process: one reconciliation, nothing else; reports its own figures."""
    try:
        if config.get("profile"):
            import cProfile

            profiler = cProfile.Profile()
            figures = profiler.runcall(asyncio.run, _reconcile(config))
            profiler.dump_stats(config["profile"])
            queue.put(figures)
            return
        queue.put(asyncio.run(_reconcile(config)))
    except BaseException as error:  # the parent prints it; a benchmark has no one else to tell
        queue.put({"error": f"{type(error).__name__}: {error}"})


async def _reconcile(config: dict[str, Any]) -> dict[str, Any]:
    from datetime import timedelta

    from pydantic import SecretStr

    from _harness import CountingTransport
    from offboard.adapters.atlassian import AtlassianDirectory
    from offboard.adapters.keycloak import KeycloakSource
    from offboard.core.budget import Budget, BudgetWindow
    from offboard.core.policy import Policy, Thresholds
    from offboard.ports import SystemClock
    from offboard.service.reconciling import reconcile
    from offboard.store import open_store

    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    kc_count, at_count = CountingTransport(), CountingTransport()
    store = open_store(Path(config["store"]))
    policy = Policy(
        domains=frozenset({DOMAIN}),
        thresholds=Thresholds(max_deactivations=10**6, max_deactivation_percent=100.0),
        # The benchmark measures how fast a whole plan is applied: no budget may hold it.
        budget=Budget((BudgetWindow("hour", timedelta(hours=1), 10**6, 100.0),)),
    )
    source = KeycloakSource(
        config["keycloak_url"], config["realm"], config["client_id"],
        SecretStr(config["client_secret"]), page_size=config["page_size"], concurrency=4,
        transport=kc_count, reread_delay=config["reread_delay"],
    )  # fmt: skip
    directory = AtlassianDirectory(
        org_id=ORG_ID, org_key=ORG_KEY, base_url=config["atlassian_url"], directory_id="dir-main",
        rate_per_second=config["rate"], burst=max(1, int(config["rate"] // 10)),
        key_owner_account_id=OWNER_ID, transport=at_count,
    )  # fmt: skip
    marks: dict[str, float] = {}
    async with source, directory:
        report = await reconcile(
            source=Timed(source, "keycloak", marks), directory=Timed(directory, "atlassian", marks),
            store=store, policy=policy,
            clock=SystemClock(), apply=True, concurrency=config["apply_concurrency"],
        )  # fmt: skip
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        kc_kinds, at_kinds = dict(kc_count.kinds), dict(at_count.kinds)
        statuses = {str(k): v for k, v in (kc_count.statuses + at_count.statuses).items()}
        recheck = await _time_recheck(config, source, directory, store, policy)
    store.close()
    result = report.result
    assert result is not None
    applied = report.applied
    return {
        "status": report.status,
        "wall_s": round(wall, 2),
        "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2),
        "peak_rss_mb": round(after.ru_maxrss / 1024, 1),
        "phases_s": phases(marks, started, started + wall),
        "recheck": recheck,
        "listed": len(result.source.identities),
        "accounts": len(result.target.accounts),
        "actions": len(result.plan.actions),
        "verified": _verified(applied),
        "keycloak_requests": kc_kinds,
        "atlassian_requests": at_kinds,
        "statuses": statuses,
        "problems": list(report.problems)[:5],
    }


async def _time_recheck(
    config: dict[str, Any], source: Any, directory: Any, store: Any, policy: Any
) -> dict[str, float]:
    """The daemon's re-check of one person who did not leave, on the store the run left."""
    from offboard.core.identities import IdentityId
    from offboard.ports import SystemClock
    from offboard.service.reconciling import recheck_identity

    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    await recheck_identity(IdentityId(config["recheck_id"]), source=source, directory=directory,
                           store=store, policy=policy, clock=SystemClock())  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {"wall_s": round(time.perf_counter() - started, 3), "cpu_s": round(cpu, 3)}


def _verified(applied: Any) -> int:
    if applied is None:
        return 0
    return sum(1 for outcome in applied.outcomes if str(outcome.readback) == "verified")


def run_measured(config: dict[str, Any]) -> dict[str, Any]:
    """One reconciliation in a fresh process (so its peak RSS is its own)."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_measure, args=(config, queue))
    child.start()
    figures: dict[str, Any] = queue.get(timeout=3600)
    child.join(60)
    if "error" in figures:
        raise RuntimeError(figures["error"])
    return figures
