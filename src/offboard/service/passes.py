"""What the daemon needs from a reconciliation pass, and what it learns from one.

The daemon runs two kinds of pass: a full reconciliation (the authority) and a targeted
re-check of one identity, or of a wave of people whose events arrived together (for speed).
Both are carried out by ``offboard.service.reconciling`` (waves by ``service.waves``); this
module states the narrow interface the daemon drives (:class:`Passes`) and turns a run's
journal records into :class:`ActionReport` lines for metrics and the status page.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from offboard.core.identities import IdentityId
from offboard.core.journal import JournalRecord, Phase, Status
from offboard.core.plan import Plan


@dataclass(frozen=True, slots=True)
class ActionReport:
    """One action of a pass and how it ended."""

    key: str
    kind: str
    identity_id: str | None
    account_id: str | None
    email: str | None
    outcome: str
    """``verified``, ``succeeded``, ``mismatch``, ``failed`` or ``blocked``."""
    at: datetime
    """When the outcome (or the read-back confirming it) was recorded."""
    deprovisioning: bool = False
    detail: str = ""
    read_back: bool = False
    """True when ``outcome`` comes from reading the account back after the request."""

    @property
    def confirmed(self) -> bool:
        """True when this pass changed the account and the read-back showed the wanted state."""
        return self.read_back and self.outcome == Status.VERIFIED


@dataclass(frozen=True, slots=True)
class PassReport:
    """The result of one pass, as the daemon reports it."""

    kind: str
    """``full``, ``recheck`` or ``wave``."""
    started_at: datetime
    finished_at: datetime
    complete: bool
    """False when the pass could not read or act on everything it should have."""
    run_id: str | None = None
    plan: Plan | None = None
    actions: tuple[ActionReport, ...] = ()
    problems: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
    unread: dict[str, str] = field(default_factory=dict)
    """A wave's people who could not be read (person → why): left out of its plan, retried."""

    @property
    def duration(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def blocked_guards(self) -> tuple[str, ...]:
        return tuple(g.name.value for g in self.plan.blocked_by) if self.plan else ()


class Passes(Protocol):
    """The two passes the daemon runs; implemented on top of ``service.reconciling``."""

    async def full(self) -> PassReport:
        """Reconcile everything: read both sides, plan, apply, read back."""
        ...

    async def recheck(self, identity_id: IdentityId) -> PassReport:
        """Confirm one identity by a fresh read, plan for it with the same guards, apply."""
        ...

    async def wave(self, identity_ids: Sequence[IdentityId]) -> PassReport:
        """Re-check many people at once: fresh reads, ONE targeted plan, the same guards."""
        ...


_DEPROVISIONING = frozenset({"deactivate", "suspend", "scim_deactivate", "delete"})
_FINAL = {Phase.OUTCOME, Phase.READBACK}


def action_reports(records: Iterable[JournalRecord]) -> tuple[ActionReport, ...]:
    """The last word of the journal on each action of a run (read-back beats outcome)."""
    last: dict[str, JournalRecord] = {}
    for record in records:
        if record.phase not in _FINAL:
            continue
        previous = last.get(record.action_key)
        if previous is None or _rank(record) >= _rank(previous):
            last[record.action_key] = record
    return tuple(_report(record) for record in last.values())


def _rank(record: JournalRecord) -> int:
    return 1 if record.phase is Phase.READBACK else 0


def _report(record: JournalRecord) -> ActionReport:
    kind = record.kind or record.action_key.split(":", 1)[0]
    return ActionReport(
        key=record.action_key,
        kind=kind,
        identity_id=record.identity_id,
        account_id=record.account_id,
        email=record.email,
        outcome=record.status.value,
        at=record.at,
        deprovisioning=kind in _DEPROVISIONING,
        detail=record.detail or record.reason,
        read_back=record.phase is Phase.READBACK,
    )


def counts_of(actions: Sequence[ActionReport]) -> dict[str, int]:
    """Actions per outcome, for the run summary."""
    counts: dict[str, int] = {}
    for action in actions:
        counts[action.outcome] = counts.get(action.outcome, 0) + 1
    return counts
