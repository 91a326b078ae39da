"""Wire users → ``core.identities.Identity``.

A listing read never confirms a disable and never knows the lockout state: that takes a fresh
read by id and a brute-force check (see ``confirmation``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from types import MappingProxyType

from offboard.adapters.keycloak.wire import UserRep
from offboard.core.identities import Identity, IdentityId, Lockout

NO_ATTRIBUTES: Mapping[str, tuple[str, ...]] = MappingProxyType({})
NO_GROUPS: frozenset[str] = frozenset()
"""Shared empties: a realm listing has 10k+ identities with neither, so share one of each."""
DISABLED_REASON = "disabledReason"
PERMANENT_LOCKOUT_REASON = "permanentLockout"
"""Keycloak marks a permanently locked-out user with this ``disabledReason`` attribute."""


def identity_from_listing(
    user: UserRep, groups: Iterable[str] = (), vouched: Mapping[str, str] | None = None
) -> Identity:
    """An identity as a list read shows it: lockout UNKNOWN, disable not confirmed.

    ``vouched`` holds attribute values the server's own ``q=`` filter guarantees: a brief
    representation carries no attributes, yet the planner re-checks the attribute scope.
    """
    attributes = _attributes(user)
    if vouched:
        attributes = dict(attributes)
        for name, value in vouched.items():
            attributes[name] = (*attributes.get(name, ()), value)
    return Identity(
        id=IdentityId(user.id),
        username=user.username,
        email=user.email,
        enabled=user.enabled,
        created_at=_from_millis(user.createdTimestamp),
        federation_link=user.federationLink,
        service_account_client_id=user.serviceAccountClientId,
        groups=frozenset(groups) or NO_GROUPS,
        attributes=attributes,
        display_name=_display_name(user.firstName, user.lastName),
    )


def identity_from_read(
    user: UserRep,
    *,
    lockout: Lockout,
    disable_confirmed: bool,
    groups: Iterable[str] = (),
    vouched: Mapping[str, str] | None = None,
) -> Identity:
    """An identity from a read by id, with what the confirmation found out (``vouched``:
    scope attribute values Keycloak's ``q=`` filter found on the user)."""
    listed = identity_from_listing(user, groups, vouched)
    return replace(
        listed, lockout=lockout, disable_confirmed=disable_confirmed and not listed.enabled
    )


def is_permanently_locked(user: UserRep) -> bool:
    """True when Keycloak disabled the user for a permanent brute-force lockout."""
    reasons = (user.attributes or {}).get(DISABLED_REASON, [])
    return PERMANENT_LOCKOUT_REASON in reasons


def user_id_from_resource_path(path: str) -> str | None:
    """``users/{id}`` (and ``users/{id}/…``) → the id; anything else → None."""
    parts = path.strip("/").split("/")
    if len(parts) >= 2 and parts[0] == "users" and parts[1]:
        return parts[1]
    return None


def _attributes(user: UserRep) -> Mapping[str, tuple[str, ...]]:
    if not user.attributes:
        return NO_ATTRIBUTES  # brief listings carry none: share one empty mapping
    return {name: tuple(values) for name, values in user.attributes.items()}


def _display_name(first: str | None, last: str | None) -> str:
    """First and last name, either alone, or empty (a brief listing of 50,000 has them all)."""
    if first and last:
        return f"{first} {last}".strip()
    return (first or last or "").strip()


def _from_millis(millis: int | None) -> datetime | None:
    return datetime.fromtimestamp(millis / 1000, tz=UTC) if millis is not None else None
