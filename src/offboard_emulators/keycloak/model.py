"""The records an emulated realm holds, and their JSON representations as Keycloak 26.7.3
renders them (field sets checked against a real server, see docs/emulators/keycloak.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

MANAGE_USERS = "manage-users"
VIEW_USERS = "view-users"
QUERY_USERS = "query-users"
QUERY_GROUPS = "query-groups"
VIEW_EVENTS = "view-events"
VIEW_REALM = "view-realm"
# view-users is a composite that contains query-users and query-groups (as in Keycloak).
COMPOSITES = {VIEW_USERS: {QUERY_USERS, QUERY_GROUPS}, MANAGE_USERS: {QUERY_USERS}}


def effective_roles(roles: frozenset[str] | set[str]) -> frozenset[str]:
    """The roles plus those their composites contain."""
    expanded = set(roles)
    for role in roles:
        expanded |= COMPOSITES.get(role, set())
    return frozenset(expanded)


@dataclass(slots=True)
class User:
    """One user; `roles` are its client roles on `realm-management`."""

    id: str
    username: str
    created: int
    enabled: bool = True
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email_verified: bool = False
    attributes: dict[str, list[str]] = field(default_factory=dict)
    service_account_client_id: str | None = None
    federation_link: str | None = None
    password: str | None = None
    groups: set[str] = field(default_factory=set)
    roles: frozenset[str] = frozenset()

    def brief(self, enabled: bool | None = None) -> dict[str, Any]:
        """The core fields (`briefRepresentation=true`); `enabled` may be overridden."""
        rep: dict[str, Any] = {"id": self.id, "username": self.username}
        names = {"firstName": self.first_name, "lastName": self.last_name, "email": self.email}
        rep.update({key: value for key, value in names.items() if value is not None})
        rep["emailVerified"] = self.email_verified
        rep["enabled"] = self.enabled if enabled is None else enabled
        rep["createdTimestamp"] = self.created
        if self.federation_link is not None:
            rep["federationLink"] = self.federation_link
        return rep

    def full(self, enabled: bool | None = None) -> dict[str, Any]:
        """The full representation (attributes only when the user has some)."""
        rep = self.brief(enabled)
        if self.attributes:
            rep["attributes"] = {key: list(values) for key, values in self.attributes.items()}
        rep.update(totp=False, disableableCredentialTypes=[], requiredActions=[], notBefore=0)
        return rep


def access_summary(can_manage: bool) -> dict[str, bool]:
    """`access` as a user listing shows it to the caller."""
    return {"manage": can_manage}


def access_detail(can_manage: bool) -> dict[str, bool]:
    """`access` as a read by id shows it to the caller."""
    return {
        "manageGroupMembership": can_manage,
        "resetPassword": can_manage,
        "view": True,
        "mapRoles": can_manage,
        "impersonate": can_manage,
        "manage": can_manage,
    }


@dataclass(slots=True)
class Group:
    """A group; `path` is `/parent/child`, set by the realm when it stores the group."""

    id: str
    name: str
    parent_id: str | None = None
    path: str = ""
    attributes: dict[str, list[str]] = field(default_factory=dict)

    def _core(self) -> dict[str, Any]:
        rep: dict[str, Any] = {"id": self.id, "name": self.name, "path": self.path}
        if self.parent_id is not None:
            rep["parentId"] = self.parent_id
        return rep

    def _details(self) -> dict[str, Any]:
        """What `briefRepresentation=false` adds (roles are not emulated: always empty)."""
        attributes = {key: list(values) for key, values in self.attributes.items()}
        return {"attributes": attributes, "realmRoles": [], "clientRoles": {}}

    def membership(self, brief: bool = True) -> dict[str, Any]:
        """As `users/{id}/groups` lists it (no `subGroupCount`, `subGroups` always empty)."""
        rep = {**self._core(), "subGroups": []}
        return rep if brief else {**rep, **self._details()}

    def by_path(self, sub_count: int) -> dict[str, Any]:
        """As `group-by-path/{path}` answers: full, children counted but not listed."""
        return {**self._core(), "subGroupCount": sub_count, "subGroups": [], **self._details()}

    def listed(
        self,
        can_manage: bool,
        sub_count: int,
        sub_groups: list[dict[str, Any]] | None = None,
        brief: bool = True,
    ) -> dict[str, Any]:
        """As `groups` (and `groups/{id}`) show it to the caller, with its `access`."""
        rep = {**self._core(), "subGroupCount": sub_count, "subGroups": sub_groups or []}
        if not brief:
            rep.update(self._details())
        rep["access"] = {
            "view": True,
            "viewMembers": True,
            "manageMembers": can_manage,
            "manage": can_manage,
            "manageMembership": can_manage,
        }
        return rep


@dataclass(frozen=True, slots=True)
class Client:
    """An OpenID Connect client of the realm."""

    id: str
    client_id: str
    secret: str | None
    public: bool = False
    service_accounts: bool = False
    direct_grants: bool = False
    token_lifespan: int | None = None  # attribute access.token.lifespan overrides the realm


@dataclass(frozen=True, slots=True)
class AuthDetails:
    """Who performed an admin operation (ids, as Keycloak records them)."""

    realm_id: str
    client_id: str
    user_id: str
    ip_address: str = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class AdminEvent:
    """One admin event; `representation` is the JSON text Keycloak stores (may be cut)."""

    id: str
    time: int
    realm_id: str
    auth: AuthDetails
    operation_type: str
    resource_type: str
    resource_path: str
    representation: str | None = None

    def to_json(self) -> dict[str, Any]:
        """`AdminEventRepresentation`."""
        rep: dict[str, Any] = {
            "id": self.id,
            "time": self.time,
            "realmId": self.realm_id,
            "authDetails": {
                "realmId": self.auth.realm_id,
                "clientId": self.auth.client_id,
                "userId": self.auth.user_id,
                "ipAddress": self.auth.ip_address,
            },
            "operationType": self.operation_type,
            "resourceType": self.resource_type,
            "resourcePath": self.resource_path,
        }
        if self.representation is not None:
            rep["representation"] = self.representation
        return rep


@dataclass(frozen=True, slots=True)
class UserEvent:
    """One user ("login") event such as LOGIN_ERROR or USER_DISABLED_BY_TEMPORARY_LOCKOUT."""

    id: str
    time: int
    type: str
    realm_id: str
    user_id: str | None
    client_id: str | None = None
    error: str | None = None
    details: tuple[tuple[str, str], ...] = ()
    ip_address: str = "127.0.0.1"

    def to_json(self) -> dict[str, Any]:
        """`EventRepresentation` (absent fields are left out, as Keycloak does)."""
        rep: dict[str, Any] = {"id": self.id, "time": self.time, "type": self.type}
        rep["realmId"] = self.realm_id
        if self.client_id is not None:
            rep["clientId"] = self.client_id
        if self.user_id is not None:
            rep["userId"] = self.user_id
        rep["ipAddress"] = self.ip_address
        if self.error is not None:
            rep["error"] = self.error
        if self.details:
            rep["details"] = dict(self.details)
        return rep


def compact_json(value: Any) -> str:
    """JSON text without spaces, as Keycloak stores representations."""
    return json.dumps(value, separators=(",", ":"))
