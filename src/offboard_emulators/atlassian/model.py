"""The emulated tenant's records. Mutable on purpose: the state module changes them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ACCOUNT_STATUSES = ("active", "inactive", "closed")
MANAGEMENT_SOURCES = ("invited", "synced", "google")
CLAIM_STATUSES = ("verified", "deleted", "unverified", "superseded", "missing_token")
DELETION_GRACE_DAYS = 14


@dataclass(slots=True)
class ProductAccess:
    """One product the account can use, with when it was last used there."""

    key: str
    name: str
    url: str
    last_active: datetime | None = None


@dataclass(slots=True)
class Account:
    """An Atlassian account as the org sees it (reference §1.2, §1.5, §2.3)."""

    account_id: str
    email: str
    name: str
    nickname: str
    org_id: str
    account_type: str = "atlassian"
    account_status: str = "active"
    email_verified: bool = True
    management_source: str | None = "invited"
    platform_roles: list[str] = field(default_factory=list)
    product_access: list[ProductAccess] = field(default_factory=list)
    access_billable: bool = True
    added_to_org: datetime | None = None
    last_active: datetime | None = None
    pending_deletion_at: datetime | None = None
    deactivated_on: datetime | None = None
    deactivated_by: str | None = None
    disable_message: str | None = None
    export_control_blocked: bool = False
    lifecycle_conflict: bool = False
    job_title: str | None = None
    department: str | None = None
    zoneinfo: str = "Etc/UTC"
    locale: str = "en-US"

    @property
    def email_domain(self) -> str:
        """The part after ``@``, lower-cased."""
        return self.email.rpartition("@")[2].lower()


@dataclass(slots=True)
class Domain:
    """A domain the org has (tried to) claim."""

    domain_id: str
    name: str
    claim_status: str = "verified"
    claim_type: str = "dns"


@dataclass(slots=True)
class Directory:
    """An org user directory; memberships keep insertion order for stable paging."""

    directory_id: str
    name: str
    memberships: dict[str, str] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    ever_members: set[str] = field(default_factory=set)

    def add(self, account_id: str, status: str = "active") -> None:
        """Add (or re-add) a member; a re-added member keeps its first place in the order."""
        if account_id not in self.ever_members:
            self.ever_members.add(account_id)
            self.order.append(account_id)
        self.memberships[account_id] = status


@dataclass(slots=True)
class ApiKey:
    """A credential. ``kind`` is ``org`` or ``directory``; the secret is never logged."""

    key_id: str
    secret: str
    kind: str
    org_id: str
    owner_account_id: str | None = None
    scopes: tuple[str, ...] = ()
    expires_at: datetime | None = None
    directory_id: str | None = None


@dataclass(slots=True)
class OrgSettings:
    """Per-org switches for undocumented behaviour (reference §2.5)."""

    disable_inactive_conflict: bool = False
    membership_repeat_conflict: bool = False
    """v2 ``suspend`` of a suspended membership (``restore`` of an active one) answers 409."""
    scim_lifecycle_restricted: bool = False
    v1_page_size: int = 100
    scim_require_verified_domain: bool = True
    scim_max_page_size: int = 100
    scim_max_users: int = 150_000
    """Users per SCIM directory (Atlassian's user provisioning limitations, 2023)."""
    scim_max_group_members: int = 35_000
    """Users per SCIM group (same source; support can raise it to 50,000)."""


@dataclass(slots=True)
class ScimUser:
    """A SCIM user record in one identity-provider directory."""

    scim_id: str
    user_name: str
    account_id: str
    active: bool = True
    external_id: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    created: datetime | None = None
    last_modified: datetime | None = None


@dataclass(slots=True)
class ScimGroup:
    """A SCIM group; ``members`` holds SCIM user ids."""

    scim_id: str
    display_name: str
    external_id: str | None = None
    members: list[str] = field(default_factory=list)
    created: datetime | None = None
    last_modified: datetime | None = None


@dataclass(slots=True)
class ScimDirectory:
    """An identity-provider (SCIM) directory of an org, with its own records."""

    directory_id: str
    org_id: str
    users: dict[str, ScimUser] = field(default_factory=dict)
    groups: dict[str, ScimGroup] = field(default_factory=dict)
    used_ids: set[str] = field(default_factory=set)
    user_names: dict[str, str] = field(default_factory=dict)
    """Lower-case userName → SCIM id, so a create checks uniqueness without a scan (checked
    against the record, so an entry left by a rename is never taken for a clash)."""


@dataclass(slots=True)
class Org:
    """An organization: domains, directories, accounts (ordered), SCIM directories."""

    org_id: str
    name: str
    domains: dict[str, Domain] = field(default_factory=dict)
    directories: dict[str, Directory] = field(default_factory=dict)
    account_order: list[str] = field(default_factory=list)
    scim_directories: dict[str, ScimDirectory] = field(default_factory=dict)
    settings: OrgSettings = field(default_factory=OrgSettings)

    def domain_named(self, name: str) -> Domain | None:
        """The domain record for ``name`` (case-insensitive), if the org has one."""
        lowered = name.lower()
        for domain in self.domains.values():
            if domain.name.lower() == lowered:
                return domain
        return None
