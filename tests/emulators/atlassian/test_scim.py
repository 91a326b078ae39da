"""SCIM API: users, groups, filters, paging, PATCH, DELETE semantics, errors, discovery."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from offboard_emulators.atlassian import AtlassianState, load_fixture, scim_state, seed
from tests.emulators.atlassian.conftest import (
    EXAMPLE,
    LEAVER,
    ORG,
    ORG_KEY,
    SCIM_BASE,
    SCIM_KEY,
    SYNCED,
)

USERS = f"{SCIM_BASE}/Users"
GROUPS = f"{SCIM_BASE}/Groups"
CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
EXTERNAL = "urn:scim:schemas:extension:atlassian-external:1.0"


def new_user(email: str, **extra: Any) -> dict[str, Any]:
    return {
        "schemas": [CORE],
        "userName": email,
        "emails": [{"value": email, "type": "work", "primary": True}],
        "displayName": email.split("@")[0].title(),
        **extra,
    }


async def test_create_links_an_existing_managed_account(
    client: httpx.AsyncClient, tenant: AtlassianState
) -> None:
    created = await client.post(
        USERS, json=new_user("leaver@example.com", externalId="kc-1"), headers=SCIM_KEY
    )
    assert created.status_code == 201
    body = created.json()
    assert body[EXTERNAL]["atlassianAccountId"] == LEAVER
    assert created.headers["location"].endswith(f"/Users/{body['id']}")
    assert created.headers["content-type"].startswith("application/scim+json")
    assert tenant.accounts[LEAVER].management_source == "synced"
    duplicate = await client.post(USERS, json=new_user("LEAVER@example.com"), headers=SCIM_KEY)
    assert duplicate.status_code == 409
    assert duplicate.json()["scimType"] == "uniqueness"
    assert duplicate.json()["status"] == "409"


async def test_create_makes_a_new_account_and_refuses_unverified_domains(
    client: httpx.AsyncClient, tenant: AtlassianState
) -> None:
    created = (
        await client.post(USERS, json=new_user("newbie@example.com"), headers=SCIM_KEY)
    ).json()
    account = tenant.accounts[created[EXTERNAL]["atlassianAccountId"]]
    assert account.email == "newbie@example.com"
    assert account.management_source == "synced"
    refused = await client.post(USERS, json=new_user("x@elsewhere.net"), headers=SCIM_KEY)
    assert refused.status_code == 400
    no_email = await client.post(USERS, json={"userName": "nobody"}, headers=SCIM_KEY)
    assert no_email.status_code == 400


async def test_filters_only_username_and_external_id_eq(client: httpx.AsyncClient) -> None:
    by_name = await client.get(
        USERS, params={"filter": 'userName eq "SYNCED@example.com"'}, headers=SCIM_KEY
    )
    assert by_name.json()["totalResults"] == 1
    by_external = await client.get(
        USERS, params={"filter": 'externalId eq "kc-5f1e2d3c"'}, headers=SCIM_KEY
    )
    assert by_external.json()["Resources"][0]["id"] == "scim-user-sam"
    wrong_case = await client.get(
        USERS, params={"filter": 'externalId eq "KC-5F1E2D3C"'}, headers=SCIM_KEY
    )
    assert wrong_case.json()["totalResults"] == 0
    for unsupported in (
        'emails eq "a@b"',
        'userName sw "s"',
        'userName eq "a" or userName eq "b"',
        "junk",
    ):
        response = await client.get(USERS, params={"filter": unsupported}, headers=SCIM_KEY)
        assert response.status_code == 400
        assert response.json()["scimType"] == "invalidFilter"


async def test_paging_with_start_index_and_count(client: httpx.AsyncClient) -> None:
    for n in range(5):
        await client.post(USERS, json=new_user(f"page{n}@example.com"), headers=SCIM_KEY)
    first = (await client.get(USERS, params={"startIndex": 1, "count": 4}, headers=SCIM_KEY)).json()
    assert first["totalResults"] == 6
    assert first["itemsPerPage"] == 4
    assert first["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]
    rest = (await client.get(USERS, params={"startIndex": 5, "count": 4}, headers=SCIM_KEY)).json()
    assert rest["startIndex"] == 5
    assert rest["itemsPerPage"] == 2
    ids = {u["id"] for u in first["Resources"]} | {u["id"] for u in rest["Resources"]}
    assert len(ids) == 6


@pytest.mark.parametrize(
    "operations_key",
    ["Operations", "operations"],
)
@pytest.mark.parametrize(
    "operation",
    [
        {"op": "replace", "path": "active", "value": False},
        {"op": "replace", "value": {"active": False}},
    ],
)
async def test_patch_active_false_deactivates_the_linked_account(
    client: httpx.AsyncClient,
    tenant: AtlassianState,
    operations_key: str,
    operation: dict[str, Any],
) -> None:
    payload = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        operations_key: [operation],
    }
    patched = await client.patch(f"{USERS}/scim-user-sam", json=payload, headers=SCIM_KEY)
    assert patched.status_code == 200
    assert patched.json()["active"] is False
    account = tenant.accounts[SYNCED]
    assert account.account_status == "inactive"
    assert account.deactivated_by == "scim"
    blocked = await client.post(f"/users/{SYNCED}/manage/lifecycle/enable", headers=ORG_KEY)
    assert blocked.status_code == 403
    assert blocked.json()["context"]["reason"]["key"] == "externalDirectory.scim"
    back = {"Operations": [{"op": "replace", "path": "active", "value": True}]}
    await client.patch(f"{USERS}/scim-user-sam", json=back, headers=SCIM_KEY)
    assert account.account_status == "active"


async def test_patch_attributes_and_bad_operations(client: httpx.AsyncClient) -> None:
    enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    ops = {
        "Operations": [
            {"op": "replace", "path": "title", "value": "Engineer"},
            {"op": "add", "path": f"{enterprise}:department", "value": "R&D"},
            {"op": "replace", "path": "name.givenName", "value": "Sam"},
        ]
    }
    body = (await client.patch(f"{USERS}/scim-user-sam", json=ops, headers=SCIM_KEY)).json()
    assert body["title"] == "Engineer"
    assert body[enterprise] == {"department": "R&D"}
    assert body["name"]["givenName"] == "Sam"
    for bad in (
        {},
        {"Operations": [{"op": "frobnicate"}]},
        {"Operations": [{"op": "remove", "path": "userName"}]},
    ):
        response = await client.patch(f"{USERS}/scim-user-sam", json=bad, headers=SCIM_KEY)
        assert response.status_code == 400


async def test_delete_then_404_deactivates_account_and_never_reuses_the_id(
    client: httpx.AsyncClient, tenant: AtlassianState
) -> None:
    assert (await client.delete(f"{USERS}/scim-user-sam", headers=SCIM_KEY)).status_code == 204
    for method in ("GET", "DELETE", "PUT", "PATCH"):
        response = await client.request(method, f"{USERS}/scim-user-sam", json={}, headers=SCIM_KEY)
        assert response.status_code == 404
        assert response.json()["status"] == "404"
    assert tenant.accounts[SYNCED].account_status == "inactive"
    assert tenant.scim_links[SYNCED] == []
    recreated = await client.post(USERS, json=new_user("synced@example.com"), headers=SCIM_KEY)
    assert recreated.json()["id"] != "scim-user-sam"
    assert tenant.accounts[SYNCED].account_status == "active"  # a new record is the way back


async def test_after_scim_delete_the_admin_may_enable_again(
    client: httpx.AsyncClient, tenant: AtlassianState
) -> None:
    await client.delete(f"{USERS}/scim-user-sam", headers=SCIM_KEY)
    enabled = await client.post(f"/users/{SYNCED}/manage/lifecycle/enable", headers=ORG_KEY)
    assert enabled.status_code == 204
    assert tenant.accounts[SYNCED].account_status == "active"


async def test_put_replaces_the_user(client: httpx.AsyncClient) -> None:
    replacement = new_user("synced@example.com", active=False, title="Gone")
    body = (await client.put(f"{USERS}/scim-user-sam", json=replacement, headers=SCIM_KEY)).json()
    assert body["active"] is False
    assert body["title"] == "Gone"
    assert "externalId" not in body


async def test_groups_crud_membership_and_filter(client: httpx.AsyncClient) -> None:
    created = await client.post(
        GROUPS,
        json={"displayName": "engineers", "members": [{"value": "scim-user-sam"}]},
        headers=SCIM_KEY,
    )
    assert created.status_code == 201
    group_id = created.json()["id"]
    assert (
        await client.post(GROUPS, json={"displayName": "Engineers"}, headers=SCIM_KEY)
    ).status_code == 409
    found = await client.get(
        GROUPS, params={"filter": 'displayName eq "engineers"'}, headers=SCIM_KEY
    )
    assert found.json()["totalResults"] == 1
    bad_filter = await client.get(GROUPS, params={"filter": 'id eq "x"'}, headers=SCIM_KEY)
    assert bad_filter.json()["scimType"] == "invalidFilter"
    user = (await client.get(f"{USERS}/scim-user-sam", headers=SCIM_KEY)).json()
    assert user["groups"][0]["value"] == group_id
    remove = {"Operations": [{"op": "remove", "path": 'members[value eq "scim-user-sam"]'}]}
    emptied = (await client.patch(f"{GROUPS}/{group_id}", json=remove, headers=SCIM_KEY)).json()
    assert emptied["members"] == []
    unknown = {"Operations": [{"op": "add", "path": "members", "value": [{"value": "ghost"}]}]}
    assert (
        await client.patch(f"{GROUPS}/{group_id}", json=unknown, headers=SCIM_KEY)
    ).status_code == 400
    put = await client.put(
        f"{GROUPS}/{group_id}", json={"displayName": "eng", "members": []}, headers=SCIM_KEY
    )
    assert put.json()["displayName"] == "eng"
    assert (await client.delete(f"{GROUPS}/{group_id}", headers=SCIM_KEY)).status_code == 204
    assert (await client.get(f"{GROUPS}/{group_id}", headers=SCIM_KEY)).status_code == 404


async def test_credentials_use_the_failure_body(
    client: httpx.AsyncClient, tenant: AtlassianState
) -> None:
    for headers in ({}, ORG_KEY, {"Authorization": "Bearer nope"}):
        response = await client.get(USERS, headers=headers)
        assert response.status_code == 401
        assert set(response.json()) == {"error", "traceId"}
    tenant.add_scim_directory(ORG, "scim-dir-2")
    other = await client.get("/scim/directory/scim-dir-2/Users", headers=SCIM_KEY)
    assert other.status_code == 403
    assert set(other.json()) == {"error", "traceId"}


async def test_discovery_documents(client: httpx.AsyncClient) -> None:
    config = (await client.get(f"{SCIM_BASE}/ServiceProviderConfig", headers=SCIM_KEY)).json()
    assert config["patch"]["supported"] is True
    assert config["bulk"]["supported"] is False
    assert config["sort"]["supported"] is False
    types = (await client.get(f"{SCIM_BASE}/ResourceTypes", headers=SCIM_KEY)).json()
    assert {t["name"] for t in types["Resources"]} == {"User", "Group"}
    user_type = (await client.get(f"{SCIM_BASE}/ResourceTypes/User", headers=SCIM_KEY)).json()
    assert user_type["schema"] == CORE
    for urn in (
        CORE,
        "urn:ietf:params:scim:schemas:core:2.0:Group",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    ):
        schema = (await client.get(f"{SCIM_BASE}/Schemas/{urn}", headers=SCIM_KEY)).json()
        assert schema["id"] == urn
    missing = await client.get(f"{SCIM_BASE}/Schemas/urn:nope", headers=SCIM_KEY)
    assert missing.status_code == 404


async def test_attributes_projection(client: httpx.AsyncClient, tenant: AtlassianState) -> None:
    only = (
        await client.get(
            f"{USERS}/scim-user-sam", params={"attributes": "userName"}, headers=SCIM_KEY
        )
    ).json()
    assert set(only) == {"schemas", "id", "meta", "userName"}
    without = (
        await client.get(
            f"{USERS}/scim-user-sam", params={"excludedAttributes": "emails"}, headers=SCIM_KEY
        )
    ).json()
    assert "emails" not in without
    assert without["userName"] == "synced@example.com"
    assert (
        tenant.orgs[ORG].scim_directories["scim-dir-1"].users["scim-user-sam"].account_id == SYNCED
    )


def test_user_names_stay_unique_across_renames_and_deletes() -> None:
    """The userName index never misses a clash and never invents one."""
    state = AtlassianState()
    seed(state, load_fixture(EXAMPLE))
    org = next(iter(state.orgs.values()))
    directory = next(iter(org.scim_directories.values()))

    emails = iter(f"person{n}@example.com" for n in range(10))

    def create(name: str) -> str:
        body = {"userName": name, "emails": [{"value": next(emails), "primary": True}]}
        return scim_state.create_user(state, directory, body).scim_id

    first = create("one@example.com")
    with pytest.raises(scim_state.ScimProblemError) as clash:
        create("ONE@example.com")
    assert clash.value.status == 409
    scim_state.replace_user(
        state,
        directory,
        first,
        {"userName": "two@example.com", "emails": [{"value": "person0@example.com"}]},
    )
    create("one@example.com")  # the old name is free again
    with pytest.raises(scim_state.ScimProblemError):
        create("two@example.com")
    scim_state.delete_user(state, directory, first)
    create("two@example.com")


def test_group_membership_is_capped_per_group() -> None:
    state = AtlassianState()
    seed(state, load_fixture(EXAMPLE))
    org = next(iter(state.orgs.values()))
    org.settings.scim_max_group_members = 1
    directory = next(iter(org.scim_directories.values()))
    ids = [
        scim_state.create_user(
            state,
            directory,
            {"userName": f"m{n}@example.com", "emails": [{"value": f"m{n}@example.com"}]},
        ).scim_id
        for n in range(2)
    ]
    with pytest.raises(scim_state.ScimProblemError) as refused:
        scim_state.create_group(
            state, directory, {"displayName": "big", "members": [{"value": i} for i in ids]}
        )
    assert refused.value.status == 400


async def test_a_patch_to_another_records_user_name_is_a_uniqueness_conflict(
    client: httpx.AsyncClient,
) -> None:
    """userName stays unique on PATCH as on POST and PUT; the record is left unchanged."""
    created = await client.post(USERS, json=new_user("newbie@example.com"), headers=SCIM_KEY)
    user_id = created.json()["id"]
    taken = (await client.get(f"{USERS}/scim-user-sam", headers=SCIM_KEY)).json()["userName"]
    patch = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "replace", "path": "userName", "value": taken.upper()},
            {"op": "replace", "path": "displayName", "value": "Changed"},
        ],
    }
    clash = await client.patch(f"{USERS}/{user_id}", json=patch, headers=SCIM_KEY)
    assert clash.status_code == 409
    assert clash.json()["scimType"] == "uniqueness"
    after = (await client.get(f"{USERS}/{user_id}", headers=SCIM_KEY)).json()
    assert (after["userName"], after["displayName"]) == ("newbie@example.com", "Newbie")
