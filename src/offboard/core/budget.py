"""The budget over time: windows and their limits (the hold is in ``core.holds``).

A per-plan guard cannot see a mass event that arrives as many plans of one person each. The
budget can: every path that acts reserves one slot in the store before each request, and the
store counts the slots of each window (an hour, a day...) whatever process spent them. When a
window is full, the action is not sent and a *hold* is recorded: deprovisioning stops
organisation-wide, with the guard, its numbers, since when and everyone waiting, until a human
releases it.

The model is generic over a *category*: deprovisioning spends the ``deprovisioning`` budget;
provisioning spends three budgets of its own (creates, updates, membership removals), each
with its own windows and its own hold, so a mass event on one side never stops the other.
Reactivations, link bookkeeping and SCIM member additions spend nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


class BudgetCategory(StrEnum):
    DEPROVISIONING = "deprovisioning"
    PROVISIONING_CREATES = "provisioning-creates"
    PROVISIONING_UPDATES = "provisioning-updates"
    PROVISIONING_MEMBERSHIP_REMOVALS = "provisioning-membership-removals"


@dataclass(frozen=True, slots=True)
class BudgetWindow:
    """At most ``max_actions`` and ``max_percent`` of the linked accounts per ``length``;
    ``max_percent`` None counts ``max_actions`` alone (provisioning: a share of the accounts
    already linked says nothing about how many joiners a day may bring)."""

    name: str
    length: timedelta
    max_actions: int
    max_percent: float | None = None


@dataclass(frozen=True, slots=True)
class WindowLimit:
    """One window with its limit worked out for the current number of linked accounts."""

    name: str
    length: timedelta
    limit: int
    why: str
    """How the limit was found, for the hold message: ``25 actions`` or ``10% of 400 linked``."""


@dataclass(frozen=True, slots=True)
class Budget:
    """The windows of one category; the percentages apply from ``min_population`` links on."""

    windows: tuple[BudgetWindow, ...] = (
        BudgetWindow("hour", timedelta(hours=1), 25, 10.0),
        BudgetWindow("day", timedelta(days=1), 100, 25.0),
    )
    min_population: int = 50

    def limits(self, linked: int) -> tuple[WindowLimit, ...]:
        """The limit of each window for ``linked`` linked accounts (the smaller of the two)."""
        return tuple(self._limit(window, linked) for window in self.windows)

    def _limit(self, window: BudgetWindow, linked: int) -> WindowLimit:
        absolute = WindowLimit(
            window.name, window.length, window.max_actions, actions(window.max_actions)
        )
        if window.max_percent is None or linked < max(self.min_population, 1):
            return absolute  # a share of nobody would stop everything
        share = math.floor(window.max_percent * linked / 100)
        if share >= window.max_actions:
            return absolute
        why = f"{window.max_percent:g}% of {linked} linked accounts"
        return WindowLimit(window.name, window.length, share, why)


DEFAULT_BUDGET = Budget()


def absolute_budget(per_hour: int, per_day: int) -> Budget:
    """An hour and a day window of absolute counts (the provisioning budgets)."""
    return Budget(
        (
            BudgetWindow("hour", timedelta(hours=1), per_hour),
            BudgetWindow("day", timedelta(days=1), per_day),
        )
    )


DEFAULT_PROVISIONING_BUDGETS: dict[str, Budget] = {
    BudgetCategory.PROVISIONING_CREATES.value: absolute_budget(500, 2000),
    BudgetCategory.PROVISIONING_UPDATES.value: absolute_budget(500, 2000),
    BudgetCategory.PROVISIONING_MEMBERSHIP_REMOVALS.value: absolute_budget(100, 400),
}
"""Out of the way of a normal day; a first sync of a large scope is a human decision (like
lifting ``max-creates``): release the hold, or raise ``[provisioning.budget]`` for it."""


def actions(count: int) -> str:
    """``1 action``, ``2 actions``: said right in every hold message."""
    return f"{count} action" if count == 1 else f"{count} actions"
