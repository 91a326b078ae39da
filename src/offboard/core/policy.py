"""Policy: what the operator decided, as plain data the planner reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from offboard.core.accounts import AccountClass
from offboard.core.budget import DEFAULT_BUDGET, Budget


class ActionKind(StrEnum):
    """Everything a plan can ask for. Link kinds only change offboard's own store."""

    DEACTIVATE = "deactivate"
    """Managed account: User management ``lifecycle/disable`` with an explanation."""
    SUSPEND = "suspend"
    """Any account: v2 suspend of its membership in the org directory."""
    SCIM_DEACTIVATE = "scim_deactivate"
    """SCIM-linked account: ``active=false`` on its SCIM record (needs a directory key)."""
    REACTIVATE = "reactivate"
    """Undo of DEACTIVATE: ``lifecycle/enable``."""
    RESTORE = "restore"
    """Undo of SUSPEND: v2 restore."""
    SCIM_REACTIVATE = "scim_reactivate"
    """Undo of SCIM_DEACTIVATE: ``active=true``."""
    DELETE = "delete"
    """``lifecycle/delete`` (14-day grace). Only when the policy enables it."""
    LINK = "link"
    """Remember a new identity-account pair."""
    RELINK = "relink"
    """Update a pair's remembered email after an email change in Keycloak."""
    NOTIFY_INACTIVE = "notify_inactive"
    """Warn an inactive person (and their manager or the admin) by mail; no Atlassian call."""
    REVOKE_TOKENS = "revoke_tokens"
    """Revoke every API token of an account offboard deprovisioned, one call per token."""
    # Provisioning (``[provisioning]``, off by default): SCIM writes planned by
    # ``core.provisioning``; the account id names the SCIM target (``scim-user:``/``scim-group:``).
    SCIM_CREATE_USER = "scim_create_user"
    """POST a SCIM user for a Keycloak person in scope (externalId = Keycloak id)."""
    SCIM_UPDATE_USER = "scim_update_user"
    """PATCH the names and email of a SCIM user offboard provisioned."""
    SCIM_CREATE_GROUP = "scim_create_group"
    """POST a SCIM group for a selected Keycloak group."""
    SCIM_ADD_MEMBERS = "scim_add_members"
    """PATCH ``add members`` on a SCIM group offboard provisioned."""
    SCIM_REMOVE_MEMBERS = "scim_remove_members"
    """PATCH ``remove members`` on a SCIM group offboard provisioned."""


DEPROVISIONING_KINDS = frozenset(
    {ActionKind.DEACTIVATE, ActionKind.SUSPEND, ActionKind.SCIM_DEACTIVATE, ActionKind.DELETE}
)
REPROVISIONING_KINDS = frozenset(
    {ActionKind.REACTIVATE, ActionKind.RESTORE, ActionKind.SCIM_REACTIVATE}
)
LINK_KINDS = frozenset({ActionKind.LINK, ActionKind.RELINK})
PROVISIONING_KINDS = frozenset(
    {
        ActionKind.SCIM_CREATE_USER,
        ActionKind.SCIM_UPDATE_USER,
        ActionKind.SCIM_CREATE_GROUP,
        ActionKind.SCIM_ADD_MEMBERS,
        ActionKind.SCIM_REMOVE_MEMBERS,
    }
)
UNDO_OF: Mapping[ActionKind, ActionKind] = {
    ActionKind.DEACTIVATE: ActionKind.REACTIVATE,
    ActionKind.SUSPEND: ActionKind.RESTORE,
    ActionKind.SCIM_DEACTIVATE: ActionKind.SCIM_REACTIVATE,
}

DEFAULT_ACTIONS: Mapping[AccountClass, ActionKind | None] = {
    AccountClass.MANAGED: ActionKind.DEACTIVATE,
    AccountClass.UNMANAGED: ActionKind.SUSPEND,
    AccountClass.SCIM_LINKED: ActionKind.SCIM_DEACTIVATE,
    AccountClass.GOOGLE_SYNCED: ActionKind.SUSPEND,
}
"""Per account class; None means "report, never act"."""


@dataclass(frozen=True, slots=True)
class Scope:
    """Which Keycloak identities are in scope. Empty means the whole realm."""

    groups: frozenset[str] = frozenset()
    """Member of any of these groups (path or name)."""
    attribute: tuple[str, str] | None = None
    """``(name, value)``: the attribute must hold this value."""

    @property
    def is_whole_realm(self) -> bool:
        return not self.groups and self.attribute is None


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Blast-radius limits; each is a named guard that blocks the whole plan when exceeded."""

    max_deactivations: int = 25
    """At most this many deprovisioning actions in one plan."""
    max_deactivation_percent: float = 10.0
    """At most this share of the linked accounts in one plan ..."""
    min_population: int = 50
    """... applied only when at least this many accounts are linked."""
    max_source_drop_percent: float = 10.0
    """Refuse when the Keycloak user count fell more than this since the last full snapshot."""


@dataclass(frozen=True, slots=True)
class Policy:
    """Everything the planner needs to know of the operator's intent."""

    domains: frozenset[str] = frozenset()
    """Domains offboard may act on (lower case); empty means every domain the org verified.

    A listed domain the org has not verified holds unmanaged accounts: they get suspended.
    """
    protected_emails: frozenset[str] = frozenset()
    protected_account_ids: frozenset[str] = frozenset()
    allow_org_admins: bool = False
    """Org admins are protected unless this is set."""
    scope: Scope = Scope()
    match_attribute: str | None = None
    """A Keycloak attribute holding the Atlassian email; the Keycloak email otherwise."""
    grace_period: timedelta = timedelta(0)
    """How long an identity must stay a leaver before offboard acts."""
    reactivate: bool = False
    """Give access back when a deprovisioned identity is enabled again (offboard's own only)."""
    delete_after: timedelta | None = None
    """Delete accounts offboard deactivated this long ago; None (the default) never deletes."""
    actions: Mapping[AccountClass, ActionKind | None] = field(
        default_factory=lambda: dict(DEFAULT_ACTIONS)
    )
    scim_directory_configured: bool = False
    """A SCIM directory key is configured, so SCIM_DEACTIVATE can be carried out."""
    adopt_unlinked: bool = False
    """Act on accounts that were never linked (matched in this plan); off by default."""
    permanent_lockout_is_leaver: bool = False
    """A permanent brute-force lockout is an attack signal, not an offboarding, by default."""
    thresholds: Thresholds = Thresholds()
    budget: Budget = DEFAULT_BUDGET
    """The deprovisioning budget over time, shared by every path that acts."""

    def action_for(self, account_class: AccountClass) -> ActionKind | None:
        return self.actions.get(account_class)
