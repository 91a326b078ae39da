"""Exceptions for plans that must not be applied: one per guard, under ``UnsafePlan``."""

from __future__ import annotations

from offboard.core.plan import GuardName, GuardResult, Plan


class UnsafePlan(Exception):  # noqa: N818 - the name the contract uses
    """A guard blocks the plan. The message lists every blocking guard with its override."""

    def __init__(self, plan: Plan, guard: GuardResult) -> None:
        super().__init__("; ".join(g.message for g in plan.blocked_by) or guard.message)
        self.plan = plan
        self.guard = guard


class TooManyDeactivations(UnsafePlan):
    """More deprovisioning actions than ``thresholds.max_deactivations``."""


class TooManyDeactivationsPercent(UnsafePlan):
    """A larger share of the linked accounts than ``thresholds.max_deactivation_percent``."""


class SourceIncomplete(UnsafePlan):
    """The Keycloak read was not whole."""


class SourceCountDropped(UnsafePlan):
    """Keycloak lists far fewer identities than the last full snapshot."""


class TargetIncomplete(UnsafePlan):
    """The Atlassian read was not whole."""


class BudgetHeld(UnsafePlan):
    """The deprovisioning budget over time is spent, or a hold is active."""


_BY_GUARD: dict[GuardName, type[UnsafePlan]] = {
    GuardName.MAX_DEACTIVATIONS: TooManyDeactivations,
    GuardName.MAX_DEACTIVATION_PERCENT: TooManyDeactivationsPercent,
    GuardName.SOURCE_INCOMPLETE: SourceIncomplete,
    GuardName.SOURCE_COUNT_DROP: SourceCountDropped,
    GuardName.TARGET_INCOMPLETE: TargetIncomplete,
    GuardName.DEPROVISIONING_BUDGET: BudgetHeld,
}


def raise_if_unsafe(plan: Plan) -> None:
    """Raise the exception of the first blocking guard; return quietly if none blocks."""
    blocking = plan.blocked_by
    if blocking:
        first = blocking[0]
        raise _BY_GUARD[first.name](plan, first)
