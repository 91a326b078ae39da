"""The hold: one budget category stopped organisation-wide, and the slots asked of it.

See ``core.budget`` for the windows. A hold is put by a full budget window or by a plan a
guard blocked on an applying path; it keeps the guard, its numbers, since when and everyone
waiting, and only a human lifts it (``offboard hold release`` or ``--override-guard``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from offboard.core.budget import BudgetCategory, WindowLimit
from offboard.core.journal import JournalRecord
from offboard.core.plan import Action, GuardName
from offboard.core.policy import ActionKind

BUDGET_GUARD = GuardName.DEPROVISIONING_BUDGET
PROVISIONING_BUDGET_GUARD = "provisioning-budget"
"""The guard a full provisioning window puts its hold under (not a per-plan guard: it is
lifted by ``offboard hold release --category ...`` only)."""
DEPROVISIONING = BudgetCategory.DEPROVISIONING.value
SOURCE_ANOMALY_CURSOR = "keycloak:source-anomaly"
"""Set (to the guard messages) while the last full Keycloak read showed a count drop or an
incomplete listing; empty once a full read is healthy. Re-checks do not deprovision while set."""
SOURCE_GUARDS = frozenset({GuardName.SOURCE_INCOMPLETE, GuardName.SOURCE_COUNT_DROP})


_PROVISIONING_CATEGORIES = {
    ActionKind.SCIM_CREATE_USER: BudgetCategory.PROVISIONING_CREATES,
    ActionKind.SCIM_CREATE_GROUP: BudgetCategory.PROVISIONING_CREATES,
    ActionKind.SCIM_UPDATE_USER: BudgetCategory.PROVISIONING_UPDATES,
    ActionKind.SCIM_REMOVE_MEMBERS: BudgetCategory.PROVISIONING_MEMBERSHIP_REMOVALS,
}


def category_of(action: Action) -> BudgetCategory | None:
    """The budget an action spends, or None (reactivations, link bookkeeping, SCIM member
    additions: adding someone to a group Keycloak says they are in takes nothing away)."""
    if action.is_deprovisioning:
        return BudgetCategory.DEPROVISIONING
    return _PROVISIONING_CATEGORIES.get(action.kind)


def slots_of(action: Action) -> int:
    """The slots an action spends: one per member a membership removal takes out (up to 100
    in one PATCH), as the per-plan ``max-membership-removals`` guard counts them; one else."""
    if action.kind is ActionKind.SCIM_REMOVE_MEMBERS:
        return max(1, sum(1 for key, _ in action.attributes if key == "member"))
    return 1


def budget_guard(category: str) -> str:
    """The guard name a full window of ``category`` puts its hold under."""
    if category == BudgetCategory.DEPROVISIONING.value:
        return BUDGET_GUARD.value
    return PROVISIONING_BUDGET_GUARD


@dataclass(frozen=True, slots=True)
class Waiting:
    """One action a hold keeps back: who waits, and since when."""

    action_key: str
    kind: str
    identity_id: str
    account_id: str
    email: str | None
    since: datetime

    @classmethod
    def of(cls, action: Action, since: datetime) -> Waiting:
        return cls(
            action.key,
            action.kind.value,
            action.identity_id,
            action.account_id,
            action.email,
            since,
        )


@dataclass(frozen=True, slots=True)
class Hold:
    """One category (deprovisioning, or a kind of provisioning) stopped organisation-wide
    until a human releases it."""

    id: int
    category: str
    guards: tuple[str, ...]
    """The guards that put it: ``deprovisioning-budget`` or the guards of a blocked plan."""
    message: str
    """The numbers, as the guard gave them."""
    since: datetime
    waiting: tuple[Waiting, ...] = ()
    released_at: datetime | None = None
    released_by: str | None = None
    release_reason: str | None = None

    @property
    def active(self) -> bool:
        return self.released_at is None

    @property
    def people(self) -> tuple[str, ...]:
        """The identities waiting, each once, in the order they arrived."""
        return tuple(dict.fromkeys(w.identity_id for w in self.waiting))


@dataclass(frozen=True, slots=True)
class BudgetRequest:
    """One slot asked for, just before the request that spends it."""

    category: str
    waiting: Waiting
    run_id: str
    at: datetime
    limits: tuple[WindowLimit, ...]
    approved: bool = False
    """A human approved this action (a released hold or an override): no window applies,
    no hold stops it, and the slot does not count in the windows."""
    slots: int = 1
    """How many slots the action spends, all or none (``slots_of``)."""


@dataclass(frozen=True, slots=True)
class Admission:
    """One action let through to its request: the slot it spends (None when it spends no
    budget) and its intent, journaled in the same transaction only if the slot is granted."""

    request: BudgetRequest | None
    intent: JournalRecord


@dataclass(frozen=True, slots=True)
class BudgetVerdict:
    granted: bool
    hold_id: int | None = None
    detail: str = ""
    """Why not, with the numbers (empty when granted)."""
    new_hold: bool = False
    """True when this very request put the hold (its note is journaled once)."""


@dataclass(frozen=True, slots=True)
class WindowUsage:
    """Slots spent in one window, for the CLI, the status page and the metrics."""

    name: str
    length: timedelta
    used: int
    limit: int

    @property
    def left(self) -> int:
        return max(self.limit - self.used, 0)


def window_full_message(limit: WindowLimit, used: int, category: str) -> str:
    """The hold message of a full window: the numbers, and how to go on."""
    release = "`offboard hold release --reason ...`"
    if category != BudgetCategory.DEPROVISIONING.value:
        release = f"`offboard hold release --category {category} --reason ...`"
    done = f"{used} {category} action" + ("" if used == 1 else "s")
    return (
        f"{budget_guard(category)}: {done} in the last {limit.name}, the "
        f"budget is {limit.limit} ({limit.why}); {category} is held: review with `offboard "
        f"hold show`, then {release} to go on"
    )
