"""The ``[policy]`` section, its ``[policy.thresholds]`` and ``[policy.budget]``: what offboard
may do, to whom, and how much of it over time."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal, cast

from pydantic import Field, field_validator

from offboard.core.accounts import AccountClass
from offboard.core.budget import DEFAULT_BUDGET, Budget, BudgetWindow
from offboard.core.policy import DEFAULT_ACTIONS, ActionKind, Thresholds
from offboard.settings.values import Duration, Section

_DEFAULT_THRESHOLDS = Thresholds()


class ThresholdSettings(Section):
    """Blast-radius guards: a plan beyond them is blocked unless overridden for one run."""

    max_deactivations: int = Field(default=_DEFAULT_THRESHOLDS.max_deactivations, ge=0)
    """At most this many deprovisioning actions in one plan (guard ``max-deactivations``)."""
    max_deactivation_percent: float = Field(
        default=_DEFAULT_THRESHOLDS.max_deactivation_percent, ge=0, le=100
    )
    """At most this share of linked accounts in one plan (``max-deactivation-percent``)."""
    min_population: int = Field(default=_DEFAULT_THRESHOLDS.min_population, ge=0)
    """The percentage guard applies only from this many linked accounts on."""
    max_source_drop_percent: float = Field(
        default=_DEFAULT_THRESHOLDS.max_source_drop_percent, ge=0, le=100
    )
    """Refuse when Keycloak's user count fell more than this since the last full snapshot."""


_HOUR, _DAY = DEFAULT_BUDGET.windows
_HOUR_PERCENT, _DAY_PERCENT = (w.max_percent or 0.0 for w in DEFAULT_BUDGET.windows)


class BudgetSettings(Section):
    """The deprovisioning budget over time, shared by every path that acts (daemon, apply,
    deactivate): beyond it nothing more is sent and a hold waits for a human."""

    hour_max_actions: int = Field(default=_HOUR.max_actions, ge=0)
    """At most this many deprovisioning actions in any hour, counted from the store."""
    hour_max_percent: float = Field(default=_HOUR_PERCENT, ge=0, le=100)
    """At most this share of the linked accounts in any hour."""
    day_max_actions: int = Field(default=_DAY.max_actions, ge=0)
    """At most this many deprovisioning actions in any 24 hours."""
    day_max_percent: float = Field(default=_DAY_PERCENT, ge=0, le=100)
    """At most this share of the linked accounts in any 24 hours."""
    min_population: int = Field(default=DEFAULT_BUDGET.min_population, ge=0)
    """The percentages apply only from this many linked accounts on."""

    def model(self) -> Budget:
        """The core's budget: an hour and a day window."""
        return Budget(
            (
                BudgetWindow("hour", _HOUR.length, self.hour_max_actions, self.hour_max_percent),
                BudgetWindow("day", _DAY.length, self.day_max_actions, self.day_max_percent),
            ),
            self.min_population,
        )


ActionName = Literal["deactivate", "suspend", "scim_deactivate", "none"]


def _action_name(kind: ActionKind | None) -> ActionName:
    return "none" if kind is None else cast(ActionName, kind.value)


class PolicySettings(Section):
    """What offboard may do, to whom (maps onto the planner's ``Policy``)."""

    domains: list[str] = Field(default_factory=list)
    """Email domains offboard may act on; empty means every domain the org verified. A listed
    domain the org has not verified holds unmanaged accounts, which offboard suspends."""
    protected_emails: list[str] = Field(default_factory=list)
    """People offboard never acts on, whatever Keycloak says."""
    protected_account_ids: list[str] = Field(default_factory=list)
    """Atlassian account ids offboard never acts on."""
    allow_org_admins: bool = False
    """Org admins are protected unless this is true."""
    match_attribute: str | None = None
    """A Keycloak attribute holding the Atlassian email; the Keycloak email otherwise."""
    grace_period: Duration = timedelta(0)
    """How long someone must stay a leaver before offboard acts (``0``, ``15m``, ``2h``, ``7d``)."""
    reactivate: bool = False
    """Give access back when a deprovisioned person is enabled again (offboard's own only)."""
    delete_after: Duration | None = None
    """Delete accounts offboard deactivated this long ago; unset (the default) never deletes."""
    actions: dict[AccountClass, ActionName] = Field(
        default_factory=lambda: {c: _action_name(k) for c, k in DEFAULT_ACTIONS.items()}
    )
    """Action per class: managed, unmanaged, scim_linked, google_synced; ``none`` only reports."""

    @field_validator("actions", mode="before")
    @classmethod
    def _over_defaults(cls, given: object) -> object:
        # A partial table changes the classes it names; the others keep their default.
        if not isinstance(given, dict):
            return given
        return {c.value: _action_name(k) for c, k in DEFAULT_ACTIONS.items()} | given

    adopt_unlinked: bool = False
    """Adopt the day-one backlog in every plan, the daemon's too (people who left before
    offboard was watching). Not recommended: adopt once, by decision, with
    `offboard apply --adopt-backlog`."""
    permanent_lockout_is_leaver: bool = False
    """Treat a permanent brute-force lockout as leaving (it is an attack signal by default)."""
    thresholds: ThresholdSettings = ThresholdSettings()
    """The blast-radius guards."""
    budget: BudgetSettings = BudgetSettings()
    """The deprovisioning budget over time."""
