"""What provisioning reads and decides on: people and groups in Keycloak, records in SCIM.

Provisioning pushes the people of the Keycloak scope, and the Keycloak groups the operator
selected, into an Atlassian identity-provider (SCIM) directory. offboard marks what it
provisioned with ``externalId``: a SCIM user's is the Keycloak user id, a SCIM group's the
Keycloak group id. Records without offboard's mark are never written to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from offboard.core.identities import IdentityId, normalise_email

RESERVED_GROUP_NAMES = frozenset(
    {
        "site-admins",
        "administrators",
        "system-administrators",
        "trusted-users",
        "jira-administrators",
        "jira-users",
        "jira-software-users",
        "jira-core-users",
        "jira-work-management-users",
        "jira-servicemanagement-users",
        "jira-servicedesk-users",
        "jira-product-discovery-users",
        "confluence-administrators",
        "confluence-users",
        "statuspage-users",
        "opsgenie-users",
    }
)
"""Atlassian's default product groups: the SCIM API accepts these names, but the group
never reaches the site (Atlassian, "User provisioning" limitations). Compared lower case."""


PROFILE_ATTRIBUTES = frozenset(
    {"title", "department", "organization", "timezone", "preferredLanguage"}
)
"""SCIM profile attributes Atlassian takes besides names and email (its user provisioning
Postman collection: display name, email, organization, job title, timezone, department,
preferred language)."""


@dataclass(frozen=True, slots=True)
class SelectedGroup:
    """A Keycloak group chosen (by path or prefix) to be pushed as a SCIM group."""

    id: str
    """The Keycloak group id: the SCIM group's ``externalId``."""
    path: str
    name: str
    """The Keycloak group name: the SCIM group's ``displayName``."""

    @property
    def marker(self) -> str:
        return f"group:{self.path}"


@dataclass(frozen=True, slots=True)
class Person:
    """A Keycloak user in the provisioning scope, with the selected groups they are in."""

    id: IdentityId
    username: str
    email: str | None
    first_name: str = ""
    last_name: str = ""
    enabled: bool = True
    groups: frozenset[str] = frozenset()
    """Paths of the selected groups this person is a member of."""
    extra: tuple[tuple[str, str], ...] = ()
    """Mapped profile attributes (SCIM name, value) the person has in Keycloak, sorted."""

    @property
    def display_name(self) -> str:
        full = f"{self.first_name} {self.last_name}".strip()
        return full or self.username

    @property
    def normalised_email(self) -> str | None:
        return normalise_email(self.email)


@dataclass(frozen=True, slots=True)
class People:
    """The Keycloak side of one provisioning plan."""

    people: tuple[Person, ...]
    groups: tuple[SelectedGroup, ...]
    taken_at: datetime
    complete: bool
    problems: tuple[str, ...] = ()
    targeted: bool = False
    """Only some people were read (an event re-check): nobody else is spoken for."""


@dataclass(frozen=True, slots=True)
class ScimUserRecord:
    """A user of the SCIM directory, as far as provisioning compares it."""

    scim_id: str
    user_name: str
    external_id: str | None
    email: str | None
    given_name: str = ""
    family_name: str = ""
    display_name: str = ""
    active: bool = True
    extra: tuple[tuple[str, str], ...] = ()
    """The record's profile attributes of ``PROFILE_ATTRIBUTES`` (name, value), sorted."""


@dataclass(frozen=True, slots=True)
class ScimGroupRecord:
    """A group of the SCIM directory; ``members`` are SCIM user ids."""

    scim_id: str
    display_name: str
    external_id: str | None
    members: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Directory:
    """The SCIM side of one provisioning plan (the whole directory, or a targeted read)."""

    users: tuple[ScimUserRecord, ...]
    groups: tuple[ScimGroupRecord, ...]
    complete: bool
    unlinked_emails: frozenset[str] = frozenset()
    """Emails (lower case) of Atlassian accounts of the org with no record in this directory:
    a SCIM create would take such an account over, so a human decides."""
    linked_elsewhere: frozenset[str] = frozenset()
    """Keycloak ids offboard already links to an Atlassian account with no record in this
    directory (e.g. after an email change): a create would make them a second account."""
    vouched: frozenset[tuple[str, str]] = frozenset()
    """(Keycloak id, lower-case email) of each account with no record in this directory that
    offboard links to that person: a create with that email brings *their own* account under
    SCIM (Atlassian links it), which is no guess, so it is planned rather than blocked."""
    verified_domains: frozenset[str] | None = None
    """The org's verified domains (lower case), where Atlassian lets SCIM create users;
    None when not read (a targeted re-check before any full read): then not checked."""
    problems: tuple[str, ...] = ()
