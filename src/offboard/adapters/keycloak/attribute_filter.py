"""Whether Keycloak's own ``q=`` filter finds the scope attribute on one user.

Keycloak 24+ shows only the attributes its user profile declares (unmanaged attributes
off), yet stores others (an import, an LDAP mapper, a release before 24) and still matches
them in ``q=``, which is how the listing finds the attribute scope. A user read by id must
be judged the same way, or a mere rename would take them out of the scope.
"""

from __future__ import annotations

from collections.abc import Mapping

from offboard.adapters.keycloak.requests import AdminReader
from offboard.adapters.keycloak.scope import KeycloakScope
from offboard.adapters.keycloak.wire import USERS


def shows_scope(attributes: Mapping[str, list[str]] | None, scope: KeycloakScope) -> bool:
    """The representation itself shows every scope attribute value."""
    shown = attributes or {}
    return all(value in shown.get(key, []) for key, value in scope.attributes.items())


async def filter_finds(
    reader: AdminReader, scope: KeycloakScope, user_id: str, username: str
) -> bool:
    """Keycloak's ``q=`` filter of the scope lists this user (one request, by username)."""
    query: dict[str, str | int | bool] = {
        "q": scope.query or "",
        "username": username,
        "exact": True,
        "briefRepresentation": True,
    }
    found = await reader.read("users", USERS, query)
    return any(listed.id == user_id for listed in found)


async def vouched_attributes(
    reader: AdminReader, scope: KeycloakScope, user_id: str, username: str,
    attributes: Mapping[str, list[str]] | None,
) -> Mapping[str, str]:  # fmt: skip
    """The scope's attribute values the representation hides but the filter finds."""
    if not scope.attributes or shows_scope(attributes, scope):
        return {}
    return dict(scope.attributes) if await filter_finds(reader, scope, user_id, username) else {}
