"""Responses checked against Atlassian's OpenAPI documents in /work/shared/specs/atlassian.

Not in the 2025 Organizations spec, so checked by the behaviour tests only: v2 users
search, details, count, suspend, restore and remove (reference §8 table). The SCIM
discovery endpoints are typed ``string`` in the SCIM spec, so only their status is checked.
"""

from __future__ import annotations

import httpx

from tests.emulators.atlassian.conftest import (
    EXPIRED_KEY,
    GOOGLE,
    LEAVER,
    ORG,
    ORG_KEY,
    OWNER,
    SCIM_BASE,
    SCIM_KEY,
    UNMANAGED,
)
from tests.emulators.atlassian.spec_check import (
    ORG_SPEC,
    SCIM_SPEC,
    UM_SPEC,
    _spec,
    assert_matches,
    needs_specs,
)

pytestmark = needs_specs
V1 = "/v1/orgs/{orgId}"
V2_USERS = "/v2/orgs/{orgId}/directories/{directoryId}/users"


async def test_organizations_v1(client: httpx.AsyncClient) -> None:
    base = f"/admin/v1/orgs/{ORG}"
    checks = [
        ("/v1/orgs", await client.get("/admin/v1/orgs", headers=ORG_KEY)),
        (V1, await client.get(base, headers=ORG_KEY)),
        (V1, await client.get("/admin/v1/orgs/nope", headers=ORG_KEY)),
        (f"{V1}/users", await client.get(f"{base}/users", headers=ORG_KEY)),
        (f"{V1}/users", await client.get(f"{base}/users", params={"cursor": "x"}, headers=ORG_KEY)),
        (f"{V1}/users", await client.get(f"{base}/users", headers=EXPIRED_KEY)),
        (f"{V1}/users", await client.get("/admin/v1/orgs/nope/users", headers=ORG_KEY)),
        (
            f"{V1}/users/search",
            await client.post(
                f"{base}/users/search", json={"expand": ["NAME", "EMAIL"]}, headers=ORG_KEY
            ),
        ),
        (
            f"{V1}/users/search",
            await client.post(f"{base}/users/search", content=b"[", headers=ORG_KEY),
        ),
        (
            f"{V1}/users/search",
            await client.post(f"{base}/users/search", json={}, headers=EXPIRED_KEY),
        ),
        (f"{V1}/domains", await client.get(f"{base}/domains", headers=ORG_KEY)),
        (
            f"{V1}/domains/{{domainId}}",
            await client.get(f"{base}/domains/dom-example", headers=ORG_KEY),
        ),
        (f"{V1}/domains/{{domainId}}", await client.get(f"{base}/domains/nope", headers=ORG_KEY)),
        (
            "/v2/orgs/{orgId}/directories",
            await client.get(f"/admin/v2/orgs/{ORG}/directories", headers=ORG_KEY),
        ),
    ]
    directory_user = f"{V1}/directory/users/{{accountId}}"
    checks += [
        (
            f"{directory_user}/suspend-access",
            await client.post(f"{base}/directory/users/{LEAVER}/suspend-access", headers=ORG_KEY),
        ),
        (
            f"{directory_user}/restore-access",
            await client.post(f"{base}/directory/users/{LEAVER}/restore-access", headers=ORG_KEY),
        ),
        (
            f"{directory_user}/suspend-access",
            await client.post(f"{base}/directory/users/nope/suspend-access", headers=ORG_KEY),
        ),
        (directory_user, await client.delete(f"{base}/directory/users/{LEAVER}", headers=ORG_KEY)),
    ]
    await client.put("/_emulator/limits", json={"capacity": 1})
    await client.get(f"{base}/users", headers=ORG_KEY)
    checks.append((f"{V1}/users", await client.get(f"{base}/users", headers=ORG_KEY)))
    for path, response in checks:
        assert_matches(ORG_SPEC, path, response)


async def test_organizations_v2_users_list(client: httpx.AsyncClient) -> None:
    users = f"/admin/v2/orgs/{ORG}/directories/dir-main/users"
    checks = [
        await client.get(users, headers=ORG_KEY),
        await client.get(users, params={"limit": 500}, headers=ORG_KEY),
        await client.get(users, params={"directoryIds": "dir-main"}, headers=ORG_KEY),
        await client.get(users, headers=EXPIRED_KEY),
        await client.get(f"/admin/v2/orgs/{ORG}/directories/nope/users", headers=ORG_KEY),
    ]
    for response in checks:
        assert_matches(ORG_SPEC, V2_USERS, response)


async def test_account_ids_filter_takes_what_the_spec_allows(client: httpx.AsyncClient) -> None:
    """``accountIdsParam`` allows 1 to 10 ids: the list answers them (its documented page)
    and refuses eleven with a documented 400; the v2 search takes the same filter (the
    batch read-backs use it) and is held to the same bounds."""
    spec = _spec(ORG_SPEC)
    bounds = spec["components"]["parameters"]["accountIdsParam"]["schema"]
    assert (bounds["minItems"], bounds["maxItems"]) == (1, 10)
    users = f"/admin/v2/orgs/{ORG}/directories/dir-main/users"
    ids = [LEAVER, UNMANAGED, GOOGLE, *(f"5b10ac8d82e05b22cc7d{n:04x}" for n in range(8))]
    within = await client.get(users, params={"accountIds": ids[:10]}, headers=ORG_KEY)
    beyond = await client.get(users, params={"accountIds": ids}, headers=ORG_KEY)
    for response in (within, beyond):
        assert_matches(ORG_SPEC, V2_USERS, response)
    assert within.status_code == 200
    assert beyond.status_code == 400
    listed = {user["accountId"] for user in within.json()["data"]}
    assert {LEAVER, UNMANAGED} <= listed <= set(ids)
    search = f"{users}/search"
    found = await client.post(search, json={"accountIds": ids[:10]}, headers=ORG_KEY)
    assert {user["accountId"] for user in found.json()["data"]} == listed
    too_many = await client.post(search, json={"accountIds": ids}, headers=ORG_KEY)
    empty = await client.post(search, json={"accountIds": []}, headers=ORG_KEY)
    assert (too_many.status_code, empty.status_code) == (400, 400)


async def test_user_management(client: httpx.AsyncClient) -> None:
    manage = "/users/{account_id}/manage"
    checks = [
        (manage, await client.get(f"/users/{LEAVER}/manage", headers=ORG_KEY)),
        (manage, await client.get(f"/users/{UNMANAGED}/manage", headers=ORG_KEY)),
        (manage, await client.get("/users/nope/manage", headers=ORG_KEY)),
        (manage, await client.get(f"/users/{LEAVER}/manage", headers=EXPIRED_KEY)),
        (f"{manage}/profile", await client.get(f"/users/{LEAVER}/manage/profile", headers=ORG_KEY)),
        (
            f"{manage}/lifecycle/disable",
            await client.post(
                f"/users/{LEAVER}/manage/lifecycle/disable", json={"message": "x"}, headers=ORG_KEY
            ),
        ),
        (
            f"{manage}/lifecycle/disable",
            await client.post(f"/users/{GOOGLE}/manage/lifecycle/disable", headers=ORG_KEY),
        ),
        (
            f"{manage}/lifecycle/disable",
            await client.post(f"/users/{UNMANAGED}/manage/lifecycle/disable", headers=ORG_KEY),
        ),
        (
            f"{manage}/lifecycle/enable",
            await client.post(f"/users/{LEAVER}/manage/lifecycle/enable", headers=ORG_KEY),
        ),
        (
            f"{manage}/lifecycle/delete",
            await client.post(f"/users/{LEAVER}/manage/lifecycle/delete", headers=ORG_KEY),
        ),
        (
            f"{manage}/lifecycle/delete",
            await client.post(f"/users/{OWNER}/manage/lifecycle/delete", headers=ORG_KEY),
        ),
        (
            f"{manage}/lifecycle/cancel-delete",
            await client.post(f"/users/{LEAVER}/manage/lifecycle/cancel-delete", headers=ORG_KEY),
        ),
    ]
    for path, response in checks:
        assert_matches(UM_SPEC, path, response)


async def test_scim(client: httpx.AsyncClient) -> None:
    base = "/scim/directory/{directoryId}"
    user = {
        "userName": "new@example.com",
        "emails": [{"value": "new@example.com", "primary": True}],
    }
    created = await client.post(f"{SCIM_BASE}/Users", json=user, headers=SCIM_KEY)
    user_id = created.json()["id"]
    patch = {"Operations": [{"op": "replace", "path": "active", "value": False}]}
    group = await client.post(f"{SCIM_BASE}/Groups", json={"displayName": "g"}, headers=SCIM_KEY)
    checks = [
        (f"{base}/Users", created),
        (f"{base}/Users", await client.post(f"{SCIM_BASE}/Users", json=user, headers=SCIM_KEY)),
        (f"{base}/Users", await client.get(f"{SCIM_BASE}/Users", headers=SCIM_KEY)),
        (
            f"{base}/Users",
            await client.get(f"{SCIM_BASE}/Users", params={"filter": "x"}, headers=SCIM_KEY),
        ),
        (f"{base}/Users", await client.get(f"{SCIM_BASE}/Users", headers=ORG_KEY)),
        (
            f"{base}/Users/{{userId}}",
            await client.get(f"{SCIM_BASE}/Users/{user_id}", headers=SCIM_KEY),
        ),
        (
            f"{base}/Users/{{userId}}",
            await client.patch(f"{SCIM_BASE}/Users/{user_id}", json=patch, headers=SCIM_KEY),
        ),
        (
            f"{base}/Users/{{userId}}",
            await client.put(f"{SCIM_BASE}/Users/{user_id}", json=user, headers=SCIM_KEY),
        ),
        (
            f"{base}/Users/{{userId}}",
            await client.delete(f"{SCIM_BASE}/Users/{user_id}", headers=SCIM_KEY),
        ),
        (
            f"{base}/Users/{{userId}}",
            await client.get(f"{SCIM_BASE}/Users/{user_id}", headers=SCIM_KEY),
        ),
        (f"{base}/Groups", group),
        (f"{base}/Groups", await client.get(f"{SCIM_BASE}/Groups", headers=SCIM_KEY)),
        (
            f"{base}/Groups/{{id}}",
            await client.get(f"{SCIM_BASE}/Groups/{group.json()['id']}", headers=SCIM_KEY),
        ),
    ]
    for path, response in checks:
        assert_matches(SCIM_SPEC, path, response)
    for suffix in ("ServiceProviderConfig", "ResourceTypes", "Schemas", "ResourceTypes/User"):
        response = await client.get(f"{SCIM_BASE}/{suffix}", headers=SCIM_KEY)
        assert_matches(SCIM_SPEC, f"{base}/{suffix}", response, check_body=False)
