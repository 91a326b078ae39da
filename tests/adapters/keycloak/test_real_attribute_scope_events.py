"""Under ``keycloak.scope_attribute``, a user who edits that attribute in the account console
leaves the scope with a user event (``UPDATE_PROFILE``) and no admin event, on a real server."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from offboard.adapters.keycloak import KeycloakScope, KeycloakSource
from tests.adapters.keycloak.test_real_keycloak import throwaway_realm
from tests.keycloak.admin import KeycloakAdmin
from tests.keycloak.fixture import KeycloakServer

pytestmark = pytest.mark.keycloak

PASSWORD = "right-password-1"
EVENTS = {
    "eventsEnabled": True,
    "enabledEventTypes": ["DELETE_ACCOUNT", "UPDATE_PROFILE", "USER_DISABLED_BY_PERMANENT_LOCKOUT",
                          "USER_DISABLED_BY_TEMPORARY_LOCKOUT"],
    "adminEventsEnabled": True,
}  # fmt: skip


def let_users_edit_unmanaged_attributes(admin: KeycloakAdmin) -> None:
    profile = admin.request("GET", "users/profile").json()
    profile["unmanagedAttributePolicy"] = "ENABLED"
    admin.request("PUT", "users/profile", json=profile)


async def test_a_user_editing_the_scope_attribute_is_rechecked(
    keycloak_server: KeycloakServer,
) -> None:
    with throwaway_realm(keycloak_server, EVENTS) as (name, secret):
        user, password = keycloak_server.admin.credentials
        admin = KeycloakAdmin(keycloak_server.base_url, name, user, password)
        let_users_edit_unmanaged_attributes(admin)
        # Made through the admin API: an imported user gets no default roles (no account).
        alice = admin.create_user("alice", password=PASSWORD, attributes={"employment": ["active"]})
        scope = KeycloakScope(attributes={"employment": "active"})
        base = keycloak_server.base_url
        source = KeycloakSource(base, name, "offboard", SecretStr(secret), scope=scope)
        async with source, httpx.AsyncClient(base_url=base, timeout=60.0) as http:
            checks = {result.name: result for result in await source.self_check()}
            _, cursor = await source.events_since(None)
            token = await http.post(
                f"/realms/{name}/protocol/openid-connect/token",
                data={"grant_type": "password", "client_id": "login", "username": "alice",
                      "password": PASSWORD, "scope": "openid"},
            )  # fmt: skip
            access = token.raise_for_status().json()["access_token"]
            bearer = {"Authorization": f"Bearer {access}", "Accept": "application/json"}
            mine = (await http.get(f"/realms/{name}/account", headers=bearer)).raise_for_status()
            edited = {**mine.json(), "attributes": {"employment": ["former"]}}
            saved = await http.post(f"/realms/{name}/account", json=edited, headers=bearer)
            events, _ = await source.events_since(cursor)
        attributes = admin.get_user(alice).get("attributes", {})
        admin.close()

    assert saved.status_code == 204, saved.text
    assert attributes.get("employment") == ["former"]  # alice has left the scope
    assert [(e.identity_id, e.kind) for e in events] == [(alice, "user:UPDATE_PROFILE")]
    assert checks["user events"].ok
