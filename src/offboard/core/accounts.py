"""Atlassian accounts: what a person has on the target side, keyed by the account id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NewType

from offboard.core.identities import normalise_email

AccountId = NewType("AccountId", str)
"""The Atlassian account id (``557057:4f9a...`` or 24 hex digits)."""


NOT_MYSELF = "administrative.notMyself"
"""Atlassian's refusal reason when the API key's own account is the target."""
KEY_OWNER_FACT = "atlassian.key_owner_account_id"
"""The store's name (a cursor) for the key owner learned from such a refusal."""


class AccountStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    CLOSED = "closed"


class Claim(StrEnum):
    """Whether the org manages the account (its email is on a verified, claimed domain)."""

    MANAGED = "managed"
    UNMANAGED = "unmanaged"


class ManagementSource(StrEnum):
    """Who provisions the account."""

    INVITED = "invited"
    SYNCED = "synced"
    """Synced from an identity provider (``managementSource: synced``)."""
    SCIM = "scim"
    """Linked to a SCIM record in one of the org's SCIM directories."""
    GOOGLE = "google"
    """Synced from Google Workspace: the lifecycle API refuses to disable it."""
    NONE = "none"
    UNKNOWN = "unknown"
    """A value the API documents no meaning for: handled as synced from elsewhere."""


EXTERNALLY_SYNCED = frozenset(
    {ManagementSource.SYNCED, ManagementSource.GOOGLE, ManagementSource.UNKNOWN}
)
"""Provisioned by a directory offboard holds no link for. Atlassian says only ``synced``
(Google Workspace and identity providers alike); the lifecycle API may refuse them
(``externalDirectory.google`` / ``.scim``), the directory suspend never does."""


class Membership(StrEnum):
    """The account's membership in the org directory."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    NO_MEMBERSHIP = "no_membership"


class AccountClass(StrEnum):
    """The classes that decide which deprovisioning call applies (DESIGN.md section 4)."""

    MANAGED = "managed"
    UNMANAGED = "unmanaged"
    SCIM_LINKED = "scim_linked"
    GOOGLE_SYNCED = "google_synced"
    """Synced from a directory offboard holds no SCIM link for (Google Workspace, or an
    identity provider whose SCIM key offboard lacks): suspended in the org directory."""


@dataclass(frozen=True, slots=True)
class ScimLink:
    """The SCIM record an account is linked to."""

    directory_id: str
    scim_user_id: str
    active: bool = True


@dataclass(frozen=True, slots=True)
class Account:
    """One Atlassian account as last read from the org."""

    id: AccountId
    email: str | None
    name: str = ""
    status: AccountStatus = AccountStatus.ACTIVE
    claim: Claim = Claim.MANAGED
    management_source: ManagementSource = ManagementSource.INVITED
    membership: Membership = Membership.ACTIVE
    platform_roles: frozenset[str] | None = frozenset()
    """``atlassian/org-admin``, ``atlassian/site-admin``, ``atlassian/user-access-admin``.
    None when the API did not say (Atlassian returns them only on request): unknown."""
    last_active: datetime | None = None
    billable: bool = True
    account_type: str = "atlassian"
    scim: ScimLink | None = None
    pending_deletion: bool = False
    added_to_org: datetime | None = None
    """When the account joined the org (the licence report's start for never-used accounts)."""

    @property
    def normalised_email(self) -> str | None:
        return normalise_email(self.email)

    @property
    def domain(self) -> str | None:
        email = self.normalised_email
        return email.rpartition("@")[2] if email and "@" in email else None

    @property
    def is_org_admin(self) -> bool:
        """True for an org admin, and for an account whose roles are unknown: a missing
        ``platformRoles`` never means "not an admin", so such an account stays protected."""
        return self.platform_roles is None or "atlassian/org-admin" in self.platform_roles

    @property
    def account_class(self) -> AccountClass:
        if self.scim is not None or self.management_source is ManagementSource.SCIM:
            return AccountClass.SCIM_LINKED
        if self.claim is Claim.UNMANAGED:
            return AccountClass.UNMANAGED  # only the directory suspend applies, synced or not
        if self.management_source in EXTERNALLY_SYNCED:
            return AccountClass.GOOGLE_SYNCED
        return AccountClass.MANAGED

    @property
    def has_access(self) -> bool:
        """True while the person can still use Atlassian through this org."""
        if self.status is not AccountStatus.ACTIVE:
            return False
        if self.account_class is AccountClass.SCIM_LINKED and self.scim is not None:
            return self.scim.active and self.membership is not Membership.SUSPENDED
        return self.membership is not Membership.SUSPENDED
