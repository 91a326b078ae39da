"""The ``[provisioning]`` section: joiners and movers pushed to Atlassian by SCIM (default off)."""

from __future__ import annotations

from pydantic import Field, model_validator

from offboard.core.guards import ProvisioningThresholds
from offboard.core.provisioning_model import PROFILE_ATTRIBUTES
from offboard.settings.values import Section


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

    @model_validator(mode="after")
    def _paths(self) -> ProvisioningSettings:
        for path in (*self.groups, *self.group_prefixes):
            if not path.startswith("/") or not path.strip("/"):
                raise ValueError(f"groups: {path!r} is not a group path like /team/devs")
        unknown = sorted(set(self.attributes) - PROFILE_ATTRIBUTES)
        if unknown:
            allowed = ", ".join(sorted(PROFILE_ATTRIBUTES))
            raise ValueError(f"attributes: {', '.join(unknown)} not taken by Atlassian ({allowed})")
        return self

    def thresholds(self) -> ProvisioningThresholds:
        return ProvisioningThresholds(
            self.max_creates, self.max_updates, self.max_membership_removals
        )
