"""The people the last full plan blocked for a human, read from the store (so a restart
does not hide them) or, without a store, from the daemon's last full pass in memory.

A full plan's document can be large (every person skipped or blocked): it is parsed once
per run and only its blocked entries are kept.
"""

from __future__ import annotations

from collections.abc import Callable

from offboard.core.plan import Entry, EntryStatus, Plan
from offboard.core.plan_json import PlanFormatError, plan_from_json
from offboard.ports import Store
from offboard.service.status import DaemonStatus

FULL_KINDS = frozenset({"daemon", "reconcile", "apply"})
"""The run kinds that plan for everyone (a re-check plans for one person)."""
RUNS_LOOKED_AT = 30

PlanReader = Callable[[str], tuple[str, str] | None]
"""The store's ``plan_document(run_id)``: ``(fingerprint, document)``."""


class BlockedReader:
    """The blocked entries of the latest full plan, parsed once per run."""

    def __init__(self, store: Store | None, plans: PlanReader | None) -> None:
        self._store = store
        self._plans = plans
        self._cached: tuple[str, tuple[Entry, ...]] | None = None

    def entries(self, status: DaemonStatus) -> tuple[Entry, ...]:
        """Blocked entries of the latest finished full plan (store first, else memory)."""
        if self._store is not None and self._plans is not None:
            for run in self._store.runs(limit=RUNS_LOOKED_AT):
                if run.kind not in FULL_KINDS or run.status == "running":
                    continue
                if self._cached is not None and self._cached[0] == run.id:
                    return self._cached[1]
                document = self._plans(run.id)
                if document is None:
                    continue
                try:
                    plan = plan_from_json(document[1])
                except PlanFormatError:
                    continue
                self._cached = (run.id, _blocked(plan))
                return self._cached[1]
        last = status.last_full
        return _blocked(last.plan) if last is not None and last.plan is not None else ()


def _blocked(plan: Plan) -> tuple[Entry, ...]:
    return tuple(e for e in plan.entries if e.status is EntryStatus.BLOCKED)
