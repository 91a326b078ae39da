"""Which admin events can mean a leaver, and what each one asks the daemon to re-check.

Measured on Keycloak 26.7.3 (tests/adapters/keycloak/test_real_admin_hints.py):

* ``USER`` create/update/delete and ``GROUP_MEMBERSHIP`` join/leave name the user in
  ``users/{id}[/groups/{group}]``;
* removing a member from an organization is ``ORGANIZATION_MEMBERSHIP DELETE`` on
  ``organizations/{org}/members/{id}``, with no ``USER`` event, and for a *managed* member
  Keycloak deletes the user too;
* a partial import records ``REALM CREATE`` (added) or ``REALM UPDATE`` (overwritten) on
  ``users/{id}``: an overwrite deletes the old user and creates a new one with a new id, and
  the old id's deletion has no event of its own; an overwritten *group* (``REALM UPDATE``
  on ``groups/{id}``) gets a new id too, and every member loses the membership;
* changes made through the inbound SCIM API (26.6+, feature ``scim-api``) are recorded with
  SCIM-shaped paths (``…/Users/{id}``), not ``users/{id}``: the id after ``Users`` is the
  Keycloak user's id (the SCIM resource id); a USER event whose path names no user at all
  cannot be placed, so it is answered like the next two;
* deleting an organization (``ORGANIZATION DELETE``) removes each member the same way, with
  no event per member (Keycloak's ``JpaOrganizationProvider.remove``);
* deleting or renaming a group (``GROUP DELETE``/``UPDATE`` on ``groups/{id}``) takes its
  members out of a group scope with no event per member.

The last two cannot name everyone they affect: they become one :data:`EVERYONE` hint, which
the daemon answers with a full reconciliation (the authority) at once.
"""

from __future__ import annotations

from datetime import UTC, datetime

import structlog

from offboard.adapters.keycloak.casting import user_id_from_resource_path
from offboard.adapters.keycloak.requests import Query
from offboard.adapters.keycloak.wire import AdminEventRep
from offboard.core.identities import IdentityId
from offboard.ports import EVERYONE, IdentityEvent

log = structlog.get_logger(__name__)

RELEVANT_ADMIN_OPERATIONS: dict[str, frozenset[str]] = {
    # CREATE: a joiner, for provisioning (a deprovisioning re-check of a new user is a no-op).
    "USER": frozenset({"CREATE", "UPDATE", "DELETE"}),
    # Joining or leaving a group moves a user in or out of a group scope, with no USER event.
    "GROUP_MEMBERSHIP": frozenset({"CREATE", "DELETE"}),
    # Removing a managed member deletes the user, with no USER DELETE event.
    "ORGANIZATION_MEMBERSHIP": frozenset({"DELETE"}),
    # Deleting an organization removes every member: its managed members are deleted.
    "ORGANIZATION": frozenset({"DELETE"}),
    # Partial import: CREATE = a user added, UPDATE = a user overwritten (a new id).
    "REALM": frozenset({"CREATE", "UPDATE"}),
    # A scope group deleted or renamed: its members leave the scope without an event each.
    "GROUP": frozenset({"UPDATE", "DELETE"}),
}
ADMIN_QUERY: Query = {
    "resourceTypes": sorted(RELEVANT_ADMIN_OPERATIONS),
    "operationTypes": sorted(set().union(*RELEVANT_ADMIN_OPERATIONS.values())),
    "direction": "asc",
}


def hints_from_admin(event: AdminEventRep, *, group_scope: bool) -> list[IdentityEvent]:
    """The re-checks one admin event asks for: none, one user, and/or everyone."""
    resource, operation = event.resourceType or "", event.operationType
    if operation not in RELEVANT_ADMIN_OPERATIONS.get(resource, frozenset()):
        return []
    kind = f"admin:{resource}:{operation}"
    base_id = event.id or f"{event.time}:{kind}:{event.resourcePath}"
    if resource == "GROUP" and not group_scope:
        return []
    if resource in ("GROUP", "ORGANIZATION") or _group_overwritten(event, group_scope):
        return [_event(EVERYONE, f"{base_id}:everyone", event.time, kind)]
    user_id = _user_of(resource, event.resourcePath)
    if user_id is None:
        if resource != "USER":
            return []
        # A user changed, but which one we cannot tell: never drop it silently.
        log.warning(
            "a user event names no user; full reconciliation", path=event.resourcePath[:200]
        )
        return [_event(EVERYONE, f"{base_id}:everyone", event.time, kind)]
    hints = [_event(IdentityId(user_id), base_id, event.time, kind)]
    if resource == "REALM" and operation == "UPDATE":
        # The overwritten user's old id was deleted without an event: only a full pass sees it.
        hints.append(_event(EVERYONE, f"{base_id}:everyone", event.time, kind))
    return hints


def _group_overwritten(event: AdminEventRep, group_scope: bool) -> bool:
    """A partial import overwrote a group: new id, every membership gone, one event."""
    overwrite = event.resourceType == "REALM" and event.operationType == "UPDATE"
    return group_scope and overwrite and event.resourcePath.startswith("groups/")


def member_id_from_organization_path(path: str) -> str | None:
    """``organizations/{org}/members/{id}`` → the id; anything else → None."""
    parts = path.strip("/").split("/")
    if len(parts) == 4 and parts[0] == "organizations" and parts[2] == "members" and parts[3]:
        return parts[3]
    return None


def user_id_from_scim_path(path: str) -> str | None:
    """``[scim/v2/]Users/{id}[/…]`` → the id (SCIM names the collection ``Users``)."""
    parts = path.strip("/").split("/")
    for index, part in enumerate(parts[:-1]):
        if part == "Users" and parts[index + 1]:
            return parts[index + 1]
    return None


def _user_of(resource: str, path: str) -> str | None:
    if resource == "ORGANIZATION_MEMBERSHIP":
        return member_id_from_organization_path(path)
    user_id = user_id_from_resource_path(path)
    if user_id is None and resource == "USER":
        return user_id_from_scim_path(path)
    return user_id


def _event(user_id: IdentityId, event_id: str, millis: int, kind: str) -> IdentityEvent:
    occurred = datetime.fromtimestamp(millis / 1000, tz=UTC)
    return IdentityEvent(user_id, event_id, occurred, kind)
