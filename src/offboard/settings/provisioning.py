"""The ``[provisioning]`` section: joiners and movers pushed to Atlassian by SCIM (default off)."""

from __future__ import annotations

from pydantic import Field, model_validator

from offboard.core.budget import (
    DEFAULT_PROVISIONING_BUDGETS,
    Budget,
    BudgetCategory,
    absolute_budget,
)
from offboard.core.guards import ProvisioningThresholds
from offboard.settings.values import Section, check_group_path


def _default(category: BudgetCategory, window: int) -> int:
    return DEFAULT_PROVISIONING_BUDGETS[category.value].windows[window].max_actions


_CREATES = BudgetCategory.PROVISIONING_CREATES
_UPDATES = BudgetCategory.PROVISIONING_UPDATES
_REMOVALS = BudgetCategory.PROVISIONING_MEMBERSHIP_REMOVALS


class ProvisioningBudgetSettings(Section):
    """The provisioning budgets over time, one per kind, shared by every path that provisions
    (daemon passes and re-checks, ``provision apply``): beyond a window nothing more of that
    kind is sent and a hold of its category waits for a human; deprovisioning goes on."""

    creates_per_hour: int = Field(default=_default(_CREATES, 0), ge=0)
    """At most this many SCIM users and groups created in any hour (``provisioning-creates``)."""
    creates_per_day: int = Field(default=_default(_CREATES, 1), ge=0)
    """At most this many SCIM users and groups created in any 24 hours."""
    updates_per_hour: int = Field(default=_default(_UPDATES, 0), ge=0)
    """At most this many SCIM user updates in any hour (``provisioning-updates``)."""
    updates_per_day: int = Field(default=_default(_UPDATES, 1), ge=0)
    """At most this many SCIM user updates in any 24 hours."""
    membership_removals_per_hour: int = Field(default=_default(_REMOVALS, 0), ge=0)
    """At most this many people removed from SCIM groups in any hour (one slot per member)."""
    membership_removals_per_day: int = Field(default=_default(_REMOVALS, 1), ge=0)
    """At most this many people removed from SCIM groups in any 24 hours."""

    @model_validator(mode="after")
    def _day_holds_hour(self) -> ProvisioningBudgetSettings:
        for kind in ("creates", "updates", "membership_removals"):
            hour, day = getattr(self, f"{kind}_per_hour"), getattr(self, f"{kind}_per_day")
            if day < hour:
                raise ValueError(f"{kind}_per_day ({day}) is below {kind}_per_hour ({hour})")
        return self

    def models(self) -> dict[str, Budget]:
        """The core's budgets by category name."""
        return {
            _CREATES.value: absolute_budget(self.creates_per_hour, self.creates_per_day),
            _UPDATES.value: absolute_budget(self.updates_per_hour, self.updates_per_day),
            _REMOVALS.value: absolute_budget(
                self.membership_removals_per_hour, self.membership_removals_per_day
            ),
        }


class ProvisioningSettings(Section):
    """Create and update the users of the Keycloak scope, and push selected groups, in the
    Atlassian identity-provider directory set by ``atlassian.scim_directory_id`` (Guard)."""

    enabled: bool = False
    """Turn provisioning on; it also needs the SCIM directory id and key."""
    groups: tuple[str, ...] = ()
    """Keycloak group paths pushed as SCIM groups (named by the Keycloak group name)."""
    group_prefixes: tuple[str, ...] = ()
    """Keycloak group paths whose subgroups (at any depth, not the group itself) are pushed,
    e.g. ``/atlassian``."""
    attributes: dict[str, str] = Field(default_factory=dict)
    """SCIM profile attribute → Keycloak user attribute, e.g. ``{title = "jobTitle"}``. SCIM
    names Atlassian takes: title, department, organization, timezone, preferredLanguage."""
    max_creates: int = Field(default=200, ge=0)
    """Guard: SCIM users and groups created in one plan (a first sync overrides it)."""
    max_updates: int = Field(default=200, ge=0)
    """Guard: SCIM users updated in one plan."""
    max_membership_removals: int = Field(default=25, ge=0)
    """Guard: people removed from SCIM groups in one plan."""
    budget: ProvisioningBudgetSettings = ProvisioningBudgetSettings()
    """The provisioning budgets over time (per hour and per day, per kind)."""

    @model_validator(mode="after")
    def _paths(self) -> ProvisioningSettings:
        for path in self.groups:
            check_group_path("groups", path, "/team/devs")
        for path in self.group_prefixes:
            check_group_path("group_prefixes", path, "/atlassian")
        if not self.attributes:  # the provisioning model only for a configuration that maps some
            return self
        from offboard.core.provisioning_model import PROFILE_ATTRIBUTES

        unknown = sorted(set(self.attributes) - PROFILE_ATTRIBUTES)
        if unknown:
            allowed = ", ".join(sorted(PROFILE_ATTRIBUTES))
            raise ValueError(f"attributes: {', '.join(unknown)} not taken by Atlassian ({allowed})")
        return self

    def thresholds(self) -> ProvisioningThresholds:
        return ProvisioningThresholds(
            self.max_creates, self.max_updates, self.max_membership_removals
        )
