"""Keycloak identities: who a person is on the source side, keyed by the Keycloak user id."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import NewType

IdentityId = NewType("IdentityId", str)
"""The Keycloak user id (a UUID). The only identity key; never the email."""


class Lockout(StrEnum):
    """Brute-force state, read from Keycloak's attack-detection endpoint.

    Keycloak reports a temporarily locked user as ``enabled: false``; a lockout is not a leave.
    """

    NONE = "none"
    TEMPORARY = "temporary"
    PERMANENT = "permanent"
    UNKNOWN = "unknown"
    """Not checked (yet), or the check failed: a disable is then unconfirmed."""


def normalise_email(email: str | None) -> str | None:
    """Emails compare case-insensitively and without surrounding blanks."""
    if email is None:
        return None
    cleaned = email.strip().lower()
    return cleaned or None


@dataclass(frozen=True, slots=True)
class Identity:
    """One Keycloak user as last read."""

    id: IdentityId
    username: str
    email: str | None
    enabled: bool
    created_at: datetime | None = None
    federation_link: str | None = None
    """Id of the user-storage component (LDAP/AD) the user comes from, if federated."""
    service_account_client_id: str | None = None
    """Set on the service-account users of confidential clients: never a person."""
    groups: frozenset[str] = frozenset()
    """Group paths (``/staff/eng``) or names, as far as scoping needs them."""
    attributes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    lockout: Lockout = Lockout.UNKNOWN
    disable_confirmed: bool = False
    """True when ``enabled: false`` survived a fresh serial read and the brute-force check."""
    display_name: str = ""
    """First and last name as Keycloak holds them (empty when it holds none): for humans."""

    @property
    def normalised_email(self) -> str | None:
        return normalise_email(self.email)

    @property
    def is_service_account(self) -> bool:
        return self.service_account_client_id is not None

    def attribute(self, name: str) -> str | None:
        """First value of a Keycloak attribute, or None."""
        values = self.attributes.get(name, ())
        return values[0] if values else None
