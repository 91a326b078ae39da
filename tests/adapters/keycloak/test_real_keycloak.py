"""``KeycloakSource`` against a real Keycloak server (the ``keycloak_server`` fixture).

The realm may be shared with earlier sessions (a hand-started server is reused), so every
test creates its own uniquely named users and compares against what the admin API lists.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from offboard.adapters.keycloak import KeycloakScope, KeycloakSource
from offboard.adapters.keycloak.admin_hints import ADMIN_QUERY
from offboard.adapters.keycloak.wire import ADMIN_EVENTS
from offboard.core.identities import IdentityId, Lockout
from tests.keycloak.fixture import KeycloakServer

pytestmark = pytest.mark.keycloak


def unique(name: str) -> str:
    return f"{name}-{secrets.token_hex(4)}"


def source_for(server: KeycloakServer, **options: Any) -> KeycloakSource:
    return KeycloakSource(
        server.base_url,
        server.realm,
        server.client_id,
        SecretStr(server.client_secret),
        reread_delay=0.2,
        **options,
    )


@pytest.fixture
async def source(keycloak_server: KeycloakServer) -> AsyncIterator[KeycloakSource]:
    # Pages of 200: the realm may hold the benchmark's 10k users (a reused server).
    async with source_for(keycloak_server, page_size=200, concurrency=3) as made:
        yield made


def all_user_ids(server: KeycloakServer) -> set[str]:
    """Every user id as the admin sees them, service accounts included (a filtered query)."""
    people = server.admin.request(
        "GET", "users", params={"max": 100_000, "briefRepresentation": "true"}
    )
    robots = server.admin.request(
        "GET", "users", params={"username": "service-account-", "max": 1000}
    )
    return {u["id"] for u in people.json()} | {u["id"] for u in robots.json()}


async def test_snapshot_equals_what_the_admin_created(
    keycloak_server: KeycloakServer, source: KeycloakSource
) -> None:
    created = {keycloak_server.admin.create_user(unique("snap")) for _ in range(9)}

    snapshot = await source.snapshot()

    assert snapshot.complete, snapshot.problems
    ids = {identity.id for identity in snapshot.identities}
    assert created <= ids
    assert ids == all_user_ids(keycloak_server)
    robot = next(i for i in snapshot.identities if i.username == "service-account-offboard")
    assert robot.service_account_client_id == keycloak_server.client_id
    assert not any(i.is_service_account for i in snapshot.identities if i.id in created)
    bob = next(i for i in snapshot.identities if i.username == "bob")
    assert not bob.enabled
    assert not bob.disable_confirmed
    assert bob.lockout is Lockout.UNKNOWN


async def test_group_scope_lists_members_with_their_group(
    keycloak_server: KeycloakServer,
) -> None:
    member = keycloak_server.admin.create_user(unique("staffer"))
    keycloak_server.admin.add_to_group(member, "staff")
    async with source_for(keycloak_server, scope=KeycloakScope(group_paths=("/staff",))) as source:
        snapshot = await source.snapshot()

    assert snapshot.complete, snapshot.problems
    by_name = {i.username: i for i in snapshot.identities}
    assert {"alice", "bob"} <= set(by_name)
    assert "carol" not in by_name
    assert by_name["alice"].groups == {"/staff"}
    assert IdentityId(member) in {i.id for i in snapshot.identities}


async def test_disable_is_confirmed(
    keycloak_server: KeycloakServer, source: KeycloakSource
) -> None:
    user_id = keycloak_server.admin.create_user(unique("leaver"))
    keycloak_server.admin.disable_user(user_id)

    identity = await source.read_identity(IdentityId(user_id))

    assert identity is not None
    assert not identity.enabled
    assert identity.disable_confirmed
    assert identity.lockout is Lockout.NONE


async def test_temporary_lockout_is_not_confirmed(
    keycloak_server: KeycloakServer, source: KeycloakSource
) -> None:
    username = unique("locked")
    user_id = keycloak_server.admin.create_user(username, password="right-password-1")
    _, cursor = await source.events_since(None)
    keycloak_server.admin.lock_out(username)
    try:
        identity = await source.read_identity(IdentityId(user_id))
        events, _ = await source.events_since(cursor)
    finally:
        keycloak_server.admin.release(user_id)

    kinds = [e.kind for e in events if e.identity_id == user_id]
    assert kinds == ["user:USER_DISABLED_BY_TEMPORARY_LOCKOUT"]
    assert identity is not None
    # 26.7.3 reads the locked user as enabled; older 26.x as disabled. Either way:
    assert identity.lockout is Lockout.TEMPORARY
    assert not identity.disable_confirmed


async def test_delete_is_confirmed_by_404(
    keycloak_server: KeycloakServer, source: KeycloakSource
) -> None:
    user_id = IdentityId(keycloak_server.admin.create_user(unique("gone")))
    before = await source.snapshot()
    keycloak_server.admin.delete_user(user_id)

    assert await source.read_identity(user_id) is None
    confirmed = await source.confirm(before, [user_id])
    assert user_id in confirmed.deleted
    assert user_id not in {i.id for i in confirmed.identities}


async def test_events_for_create_disable_and_delete_arrive_in_order(
    keycloak_server: KeycloakServer, source: KeycloakSource
) -> None:
    _, cursor = await source.events_since(None)
    user_id = keycloak_server.admin.create_user(unique("evented"))
    keycloak_server.admin.disable_user(user_id)
    keycloak_server.admin.delete_user(user_id)

    events, cursor = await source.events_since(cursor)
    again, _ = await source.events_since(cursor)

    mine = [e.kind for e in events if e.identity_id == user_id]
    assert mine == ["admin:USER:CREATE", "admin:USER:UPDATE", "admin:USER:DELETE"]
    assert not [e for e in again if e.identity_id == user_id]
    # The events carry the realm's internal id (webhooks about other realms are told apart
    # by it), as the realm itself gives it to an admin.
    realm = keycloak_server.admin.request("GET", "").json()
    assert source.realm_id == realm["id"]


async def test_one_millisecond_of_events_is_read_by_itself(
    keycloak_server: KeycloakServer, source: KeycloakSource
) -> None:
    # The poller reads a millisecond cut by a page boundary again with dateFrom = dateTo
    # (events.py): both bounds inclusive, in epoch milliseconds, as the server must take them.
    user_id = keycloak_server.admin.create_user(unique("tied"))
    keycloak_server.admin.disable_user(user_id)
    path = {"resourcePath": f"users/{user_id}", "direction": "asc"}
    mine = await source.reader.read("admin-events", ADMIN_EVENTS, path)
    assert len(mine) == 2
    millis = mine[-1].time
    query = {**ADMIN_QUERY, "dateFrom": str(millis), "dateTo": str(millis), "max": 100}
    alone = await source.reader.read("admin-events", ADMIN_EVENTS, query)
    assert alone
    assert {event.time for event in alone} == {millis}
    assert any(event.resourcePath == f"users/{user_id}" for event in alone)


async def test_self_check_passes_on_the_test_realm(source: KeycloakSource) -> None:
    results = await source.self_check()

    assert [r for r in results if not r.ok] == []


@contextmanager
def throwaway_realm(
    server: KeycloakServer, settings: dict[str, Any], users: Sequence[dict[str, Any]] = ()
) -> Iterator[tuple[str, str]]:
    """A realm made for one test, with offboard's service account; deleted afterwards."""
    name = unique("throwaway")
    secret = secrets.token_urlsafe(16)
    roles = ["view-users", "query-users", "query-groups", "view-events", "view-realm"]
    service_account = {
        "username": "service-account-offboard",
        "enabled": True,
        "serviceAccountClientId": "offboard",
        "clientRoles": {"realm-management": roles},
    }
    realm = {
        "realm": name,
        "enabled": True,
        **settings,
        "clients": [
            {
                "clientId": "offboard",
                "publicClient": False,
                "secret": secret,
                "serviceAccountsEnabled": True,
                "standardFlowEnabled": False,
            },
            {
                "clientId": "login",
                "publicClient": True,
                "directAccessGrantsEnabled": True,
                "standardFlowEnabled": False,
            },
        ],
        "users": [service_account, *users],
    }
    base = server.base_url
    headers = {"Authorization": f"Bearer {server.admin.token()}"}
    httpx.post(f"{base}/admin/realms", json=realm, headers=headers, timeout=60).raise_for_status()
    try:
        yield name, secret
    finally:
        headers = {"Authorization": f"Bearer {server.admin.token()}"}
        httpx.delete(f"{base}/admin/realms/{name}", headers=headers, timeout=60)


async def test_self_check_warns_when_admin_events_are_off(
    keycloak_server: KeycloakServer,
) -> None:
    with throwaway_realm(keycloak_server, {"adminEventsEnabled": False}) as (name, secret):
        source = KeycloakSource(keycloak_server.base_url, name, "offboard", SecretStr(secret))
        async with source:
            results = {r.name: r for r in await source.self_check()}

    assert results["token"].ok
    assert results["read admin events"].ok  # allowed; there is just nothing recorded
    assert not results["admin events"].ok
    assert "adminEventsEnabled=true" in results["admin events"].fix


PERMANENT_LOCKOUT = {"bruteForceProtected": True, "permanentLockout": True, "failureFactor": 2}
MALLORY = {
    "username": "mallory",
    "enabled": True,
    "email": "mallory@example.test",
    "credentials": [{"type": "password", "value": "right-password-1"}],
}


async def lock_mallory_out(server: KeycloakServer, realm: str) -> None:
    """Three wrong passwords: with ``PERMANENT_LOCKOUT``, Keycloak disables her for good."""
    token_url = f"{server.base_url}/realms/{realm}/protocol/openid-connect/token"
    wrong = {"grant_type": "password", "client_id": "login", "username": "mallory"}
    async with httpx.AsyncClient() as http:
        for _ in range(3):
            await http.post(token_url, data={**wrong, "password": "wrong-on-purpose"})


async def test_permanent_lockout_is_a_confirmed_disable_marked_permanent(
    keycloak_server: KeycloakServer,
) -> None:
    settings = {
        **PERMANENT_LOCKOUT,
        "eventsEnabled": True,
        "enabledEventTypes": ["USER_DISABLED_BY_PERMANENT_LOCKOUT"],
    }
    with throwaway_realm(keycloak_server, settings, [MALLORY]) as (name, secret):
        await lock_mallory_out(keycloak_server, name)
        source = KeycloakSource(keycloak_server.base_url, name, "offboard", SecretStr(secret))
        async with source:
            snapshot = await source.snapshot()
            listed = next(i for i in snapshot.identities if i.username == "mallory")
            identity = await source.read_identity(listed.id)
            events, _ = await source.events_since(None)

    assert not listed.enabled
    assert identity is not None
    assert identity.lockout is Lockout.PERMANENT  # brute force also says disabled: true
    assert identity.disable_confirmed
    assert [e.kind for e in events if e.identity_id == listed.id] == [
        "user:USER_DISABLED_BY_PERMANENT_LOCKOUT"
    ]


async def test_the_listing_of_disabled_users_shows_a_permanent_lockout_to_a_batch(
    keycloak_server: KeycloakServer,
) -> None:
    """A batch's first read is the listing of disabled users, in full: its attributes must
    show a permanent lockout as a read by id does."""
    leavers = [
        {"username": f"leaver{n}", "enabled": False, "email": f"leaver{n}@example.test"}
        for n in range(5)
    ]
    users = [MALLORY, *leavers]
    with throwaway_realm(keycloak_server, PERMANENT_LOCKOUT, users) as (name, secret):
        await lock_mallory_out(keycloak_server, name)
        source = KeycloakSource(keycloak_server.base_url, name, "offboard", SecretStr(secret))
        async with source:
            snapshot = await source.snapshot()
            humans = [i.id for i in snapshot.identities if not i.is_service_account]
            confirmed = await source.confirm(snapshot, humans)

    by_name = {i.username: i for i in confirmed.identities}
    assert by_name["mallory"].lockout is Lockout.PERMANENT
    assert by_name["mallory"].disable_confirmed
    for n in range(5):
        assert by_name[f"leaver{n}"].disable_confirmed
        assert by_name[f"leaver{n}"].lockout is Lockout.NONE
