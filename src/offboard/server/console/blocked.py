"""The people the last full plan blocked for a human, read from the store (so a restart
does not hide them) or, without a store, from the daemon's last full pass in memory.

A full plan's document can be large (every person skipped or blocked): it is parsed once
per run and only its blocked entries are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from offboard.core.plan import Entry, EntryStatus, Plan
from offboard.core.plan_json import PlanFormatError, plan_from_json
from offboard.ports import Store
from offboard.service.status import DaemonStatus

FULL_KINDS = frozenset({"daemon", "reconcile", "apply"})
"""The run kinds that plan for everyone (a re-check plans for one person)."""
RUNS_LOOKED_AT = 30

PlanReader = Callable[[str], tuple[str, str] | None]
"""The store's ``plan_document(run_id)``: ``(fingerprint, document)``."""


@dataclass(frozen=True, slots=True)
class LatestPlan:
    """What the console needs of the latest full plan."""

    run_id: str
    fingerprint: str
    blocked: tuple[Entry, ...]
    """The people it blocked for a human."""
    guards: tuple[tuple[str, str], ...]
    """``(guard, message)`` of each plan-wide guard that blocks it (empty: not blocked)."""
    at: datetime | None = None


class BlockedReader:
    """The latest full plan's blocked people and guards, parsed once per run."""

    def __init__(self, store: Store | None, plans: PlanReader | None) -> None:
        self._store = store
        self._plans = plans
        self._cached: LatestPlan | None = None

    def latest(self, status: DaemonStatus) -> LatestPlan | None:
        """The latest finished full plan (from the store, else the daemon's memory)."""
        if self._store is not None and self._plans is not None:
            for run in self._store.runs(limit=RUNS_LOOKED_AT):
                if run.kind not in FULL_KINDS or run.status == "running":
                    continue
                if self._cached is not None and self._cached.run_id == run.id:
                    return self._cached
                document = self._plans(run.id)
                if document is None:
                    continue
                try:
                    plan = plan_from_json(document[1])
                except PlanFormatError:
                    continue
                self._cached = _latest(run.id, plan, run.finished_at)
                return self._cached
        last = status.last_full
        if last is None or last.plan is None:
            return None
        return _latest(last.run_id or "", last.plan, last.finished_at)

    def entries(self, status: DaemonStatus) -> tuple[Entry, ...]:
        latest = self.latest(status)
        return latest.blocked if latest is not None else ()


def _latest(run_id: str, plan: Plan, at: datetime | None) -> LatestPlan:
    blocked = tuple(e for e in plan.entries if e.status is EntryStatus.BLOCKED)
    guards = tuple((g.name.value, g.message) for g in plan.blocked_by)
    return LatestPlan(run_id, plan.fingerprint, blocked, guards, at)
