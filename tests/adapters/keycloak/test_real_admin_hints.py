"""Leavers that reach the admin events without a ``USER`` event on ``users/{id}``, on a real
Keycloak: a partial import overwriting a user, a scope group deleted, and a member removed
from an organization (which deletes a managed member)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from offboard.adapters.keycloak import KeycloakScope
from offboard.adapters.keycloak.admin_hints import hints_from_admin
from offboard.adapters.keycloak.wire import ADMIN_EVENTS
from offboard.ports import EVERYONE
from tests.adapters.keycloak.test_real_keycloak import source_for, unique
from tests.keycloak.admin import KeycloakAdmin
from tests.keycloak.fixture import KeycloakServer

pytestmark = pytest.mark.keycloak


async def test_a_partial_import_overwrite_is_a_new_id_and_a_full_pass(
    keycloak_server: KeycloakServer,
) -> None:
    admin = keycloak_server.admin
    name = unique("imported")
    old_id = admin.create_user(name)
    async with source_for(keycloak_server) as source:
        _, cursor = await source.events_since(None)
        answer = admin.request(
            "POST",
            "partialImport",
            json={"ifResourceExists": "OVERWRITE", "users": [{"username": name, "enabled": False}]},
        ).json()
        new_id = answer["results"][0]["id"]
        events, _ = await source.events_since(cursor)
        behind = source.auth.keycloak_behind  # read from the real token's iat

    assert behind is not None
    assert -1.0 < behind < 5.0  # the same machine's clock: rounding and latency only

    assert new_id != old_id  # the old user is gone, and its deletion recorded no event
    listed = admin.request("GET", "users", params={"username": name, "exact": "true"}).json()
    assert [user["id"] for user in listed] == [new_id]
    named = [e for e in events if e.identity_id == new_id]
    assert [e.kind for e in named] == ["admin:REALM:UPDATE"]
    everyone = [e for e in events if e.event_id == f"{named[0].event_id}:everyone"]
    assert [(e.identity_id, e.kind) for e in everyone] == [(EVERYONE, "admin:REALM:UPDATE")]
    admin.delete_user(new_id)


async def test_a_scope_group_deleted_asks_for_a_full_pass(keycloak_server: KeycloakServer) -> None:
    admin = keycloak_server.admin
    group = unique("scoped")
    group_id = admin.request("POST", "groups", json={"name": group}).headers["location"]
    group_id = group_id.rsplit("/", 1)[1]
    member = admin.create_user(unique("grouped"))
    admin.request("PUT", f"users/{member}/groups/{group_id}")
    scope = KeycloakScope(group_paths=(f"/{group}",))
    async with source_for(keycloak_server, scope=scope) as source:
        _, cursor = await source.events_since(None)
        admin.request("DELETE", f"groups/{group_id}")
        events, _ = await source.events_since(cursor)

    params = {"resourcePath": f"groups/{group_id}", "operationTypes": "DELETE"}
    deletion = admin.request("GET", "admin-events", params=params).json()[0]["id"]
    everyone = [e for e in events if e.event_id == f"{deletion}:everyone"]
    assert [(e.identity_id, e.kind) for e in everyone] == [(EVERYONE, "admin:GROUP:DELETE")]
    assert not [e for e in events if e.identity_id == member]  # no event names the member
    admin.delete_user(member)


async def test_a_scope_group_moved_under_another_asks_for_a_full_pass(
    keycloak_server: KeycloakServer,
) -> None:
    admin = keycloak_server.admin
    parent_name, group = unique("parent"), unique("moved")
    parent = admin.request("POST", "groups", json={"name": parent_name}).headers["location"]
    parent_id = parent.rsplit("/", 1)[1]
    group_id = admin.request("POST", "groups", json={"name": group}).headers["location"]
    group_id = group_id.rsplit("/", 1)[1]
    async with source_for(keycloak_server, scope=KeycloakScope((f"/{group}",))) as source:
        _, cursor = await source.events_since(None)
        # Its path becomes /parent/moved: every member leaves the scope, no event each.
        admin.request("POST", f"groups/{parent_id}/children", json={"id": group_id, "name": group})
        events, _ = await source.events_since(cursor)
    admin.request("DELETE", f"groups/{parent_id}")

    params = {"resourcePath": f"groups/{parent_id}/children", "operationTypes": "UPDATE"}
    move = admin.request("GET", "admin-events", params=params).json()[0]["id"]
    everyone = [e for e in events if e.event_id == f"{move}:everyone"]
    assert [(e.identity_id, e.kind) for e in everyone] == [(EVERYONE, "admin:GROUP:UPDATE")]


async def test_a_scope_group_overwritten_by_a_partial_import_asks_for_a_full_pass(
    keycloak_server: KeycloakServer,
) -> None:
    admin = keycloak_server.admin
    group = unique("overwritten")
    admin.request("POST", "groups", json={"name": group})
    member = admin.create_user(unique("dropped"))
    admin.request("PUT", f"users/{member}/groups/{admin.group_id(group)}")
    async with source_for(keycloak_server, scope=KeycloakScope((f"/{group}",))) as source:
        _, cursor = await source.events_since(None)
        body = {"ifResourceExists": "OVERWRITE", "groups": [{"name": group, "path": f"/{group}"}]}
        answer = admin.request("POST", "partialImport", json=body).json()
        events, _ = await source.events_since(cursor)
    new_id = answer["results"][0]["id"]
    memberships = admin.request("GET", f"users/{member}/groups").json()
    admin.request("DELETE", f"groups/{new_id}")
    admin.delete_user(member)

    assert memberships == []  # the member left the scope, and no event names them
    assert not [e for e in events if e.identity_id == member]
    params = {"resourcePath": f"groups/{new_id}", "resourceTypes": "REALM"}
    overwrite = admin.request("GET", "admin-events", params=params).json()[0]["id"]
    everyone = [e for e in events if e.event_id == f"{overwrite}:everyone"]
    assert [(e.identity_id, e.kind) for e in everyone] == [(EVERYONE, "admin:REALM:UPDATE")]


@pytest.fixture
def organizations_realm(keycloak_server: KeycloakServer) -> Iterator[KeycloakAdmin]:
    """A throwaway realm with organizations on (the shared test realm keeps them off)."""
    name = f"offboard-orgs-{secrets.token_hex(4)}"
    user, password = keycloak_server.admin.credentials
    admin = KeycloakAdmin(keycloak_server.base_url, name, user, password)
    realm = {
        "realm": name,
        "enabled": True,
        "organizationsEnabled": True,
        "adminEventsEnabled": True,
    }
    bearer = {"Authorization": f"Bearer {admin.token()}"}
    with httpx.Client(base_url=keycloak_server.base_url, timeout=60.0) as http:
        http.post("/admin/realms", json=realm, headers=bearer).raise_for_status()
        try:
            yield admin
        finally:
            bearer = {"Authorization": f"Bearer {admin.token()}"}
            http.delete(f"/admin/realms/{name}", headers=bearer)
            admin.close()


def test_removing_an_organization_member_names_the_member(
    organizations_realm: KeycloakAdmin,
) -> None:
    admin = organizations_realm
    member = admin.create_user("member")
    created = admin.request(
        "POST", "organizations", json={"name": "acme", "domains": [{"name": "example.com"}]}
    )
    org = created.headers["location"].rsplit("/", 1)[1]
    admin.request("POST", f"organizations/{org}/members", json=member)
    admin.request("DELETE", f"organizations/{org}/members/{member}")
    admin.request("DELETE", f"organizations/{org}")  # would remove (delete) managed members

    raw = admin.request("GET", "admin-events", params={"direction": "asc", "max": 100})
    removal = [
        hint
        for event in ADMIN_EVENTS.validate_json(raw.content)
        for hint in hints_from_admin(event, group_scope=False)
        if event.resourceType in ("ORGANIZATION_MEMBERSHIP", "ORGANIZATION")
    ]

    assert [(h.identity_id, h.kind) for h in removal] == [
        (member, "admin:ORGANIZATION_MEMBERSHIP:DELETE"),
        (EVERYONE, "admin:ORGANIZATION:DELETE"),
    ]
