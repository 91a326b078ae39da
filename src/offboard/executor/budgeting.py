"""The budget gate of one apply: a slot reserved in the store just before each request.

``apply_plan`` asks the gate before every action it would send, with the action's intent:
the lease (holder, token, unexpired), the slot and the intent are one transaction, shared
with the other actions of the moment (``group_commit``), so that an action pays one durable
commit, not three store round trips, before its request. Actions that spend no budget
(reactivations, SCIM member additions) ask no slot; their intent is journaled the same way.
An action of a budget category (deprovisioning, or provisioning creates, updates, membership
removals: ``category_of``) is sent only when the store granted its slots in that category's
windows; otherwise it is not sent, its outcome is journaled as ``held`` and it waits on that
category's hold, and the first refusal journals the hold's note once. A plan a guard refused
is turned into a hold here too (the blast-radius guards), so that the re-checks of the same
people cannot leak through.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import structlog

from offboard.core.budget import Budget, BudgetCategory, WindowLimit
from offboard.core.holds import (
    Admission,
    BudgetRequest,
    Waiting,
    category_of,
    slots_of,
)
from offboard.core.journal import JournalRecord, Phase, Status
from offboard.core.plan import Action, GuardName, Plan
from offboard.executor.group_commit import GroupCommitter
from offboard.executor.outcomes import Outcome
from offboard.executor.records import action_record, note_record
from offboard.ports import Clock, Fence, Store

log = structlog.get_logger(__name__)


@dataclass
class BudgetGate:
    """Reserves slots for one apply; ``approved`` actions are a human's decision."""

    store: Store
    clock: Clock
    run_id: str
    fingerprint: str
    limits: Mapping[str, tuple[WindowLimit, ...]]
    """The window limits of each budget category, by category name."""
    approved: bool = False
    paused: str = ""
    """Why deprovisioning may not go on at all now (a source anomaly), or empty; it pauses
    deprovisioning only."""
    fence: Fence | None = None
    """The lease the apply acts under: an admission holds it (and checks that it has not
    run out), so a replaced or expired leader spends no slot and writes no intent
    (``FenceLostError``)."""
    committer: GroupCommitter | None = None
    """The apply's writer queue: the admissions of concurrent actions share a transaction
    with each other and with the apply's other journal writes (``group_commit``)."""

    def __post_init__(self) -> None:
        if self.committer is None:
            self.committer = GroupCommitter(self.store, self.fence, self.clock)

    @classmethod
    def open(
        cls,
        store: Store,
        clock: Clock,
        run_id: str,
        fingerprint: str,
        budgets: Mapping[str, Budget],
        *,
        approved: bool = False,
        paused: str = "",
        fence: Fence | None = None,
        committer: GroupCommitter | None = None,
    ) -> BudgetGate:
        """The gate with each category's window limits for today's number of linked
        accounts (read once; absolute windows ignore it)."""
        linked = store.link_count()
        limits = {name: budget.limits(linked) for name, budget in budgets.items()}
        return cls(store, clock, run_id, fingerprint, limits, approved, paused, fence, committer)

    async def admit(self, action: Action, intent: JournalRecord) -> Outcome | None:
        """None when the action may be sent now (its slot spent and ``intent`` durable, in
        one commit); its ``held`` outcome (journaled) when not, and then no intent."""
        category = category_of(action)
        now = self.clock.now()
        deprovisioning = category is BudgetCategory.DEPROVISIONING
        if self.paused and deprovisioning and not self.approved:
            return await self._held(action, self.paused)
        request = None
        if category is not None:
            request = BudgetRequest(
                category.value,
                Waiting.of(action, now),
                self.run_id,
                now,
                self.limits.get(category.value, ()),
                self.approved,
                slots_of(action),
            )
        assert self.committer is not None  # made in __post_init__
        verdict = await self.committer.admit(Admission(request, intent))
        if verdict.granted or category is None:
            return None
        notes = []
        if verdict.new_hold:
            log.warning(f"{category.value} held", hold=verdict.hold_id, why=verdict.detail)
            note = note_record(
                at=now,
                run_id=self.run_id,
                fingerprint=self.fingerprint,
                key=f"hold:{verdict.hold_id}",
                detail=f"hold put: {verdict.detail}",
                rule=category.value,
            )
            notes.append(note)
        return await self._held(action, verdict.detail, notes)

    async def _held(self, action: Action, why: str, notes: Sequence[JournalRecord] = ()) -> Outcome:
        """The action's ``held`` outcome (after ``notes``), through the apply's writer queue:
        fenced, and committed with the other writes of the moment."""
        detail = f"held, not sent: {why}"
        record = action_record(
            action,
            at=self.clock.now(),
            run_id=self.run_id,
            fingerprint=self.fingerprint,
            phase=Phase.OUTCOME,
            status=Status.HELD,
            detail=detail,
        )
        assert self.committer is not None  # made in __post_init__
        await self.committer.write([*notes, record])
        return Outcome(action, Status.HELD, detail)


BLAST_RADIUS = frozenset({GuardName.MAX_DEACTIVATIONS, GuardName.MAX_DEACTIVATION_PERCENT})
"""The guards that see a mass event: a plan they refuse puts a hold. A source anomaly
pauses re-checks until a healthy full read instead (``core.holds.SOURCE_ANOMALY_CURSOR``),
and an incomplete Atlassian read only blocks its own plan: neither needs a human to pass."""


def hold_blocked_plan(plan: Plan, store: Store, clock: Clock, run_id: str) -> int | None:
    """A plan a blast-radius guard refused on a path that acts puts a hold with its people;
    None when no such guard refused it or it had nobody to deprovision."""
    if not any(guard.name in BLAST_RADIUS for guard in plan.blocked_by):
        return None
    waiting = [Waiting.of(a, clock.now()) for a in plan.deprovisioning]
    if not waiting:
        return None
    guards = [g.name.value for g in plan.blocked_by]
    message = "; ".join(g.message for g in plan.blocked_by)
    category = BudgetCategory.DEPROVISIONING.value
    hold, new = store.hold_plan(category, guards, message, clock.now(), waiting)
    log.warning("deprovisioning held by a blocked plan", hold=hold, guards=guards)
    verb = "put" if new else "joined"
    store.append(
        note_record(
            at=clock.now(),
            run_id=run_id,
            fingerprint=plan.fingerprint,
            key=f"hold:{hold}",
            detail=f"hold {verb} by a blocked plan ({len(waiting)} waiting): {message}",
            rule=",".join(guards),
        )
    )
    return hold
