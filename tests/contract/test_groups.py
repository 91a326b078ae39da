"""Groups as the Keycloak adapter's group scope reads them: group-by-path, the group listing
and its search, direct members, a user's groups, joining and leaving, and the error bodies."""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

import httpx

from tests.contract.targets import Target

DETAILS = {"attributes": {}, "realmRoles": [], "clientRoles": {}}
ACCESS_KEYS = {"view", "viewMembers", "manageMembers", "manage", "manageMembership"}
BRIEF_USER = {"id", "username", "firstName", "lastName", "email", "emailVerified", "enabled"}


def tag() -> str:
    """A name part no earlier session on a reused real server has taken."""
    return secrets.token_hex(3)


async def make_group(target: Target, name: str, parent: str | None = None) -> str:
    """Create a group (a subgroup under `parent`); returns its id."""
    path = f"groups/{parent}/children" if parent else "groups"
    response = await target.admin("POST", path, json={"name": name})
    assert response.status_code == 201
    return response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]


async def join(target: Target, user_id: str, group_id: str) -> None:
    await target.admin("PUT", f"users/{user_id}/groups/{group_id}")


async def admin_status(target: Target, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """An admin call expected to fail: its response instead of an exception."""
    try:
        return await target.admin(method, path, **kwargs)
    except httpx.HTTPStatusError as error:
        return error.response


async def test_group_by_path_answers_the_full_group_with_children_counted(target: Target) -> None:
    top_name = f"scope-{tag()}"
    top = await make_group(target, top_name)
    child = await make_group(target, "eng", parent=top)
    token = await target.token()
    got = await target.get(f"group-by-path/{top_name}", token)
    assert got.status_code == 200
    assert got.json() == {
        "id": top, "name": top_name, "path": f"/{top_name}",
        "subGroupCount": 1, "subGroups": [], **DETAILS,
    }  # fmt: skip
    sub = (await target.get(f"group-by-path/{top_name}/eng", token)).json()
    assert sub == {
        "id": child, "name": "eng", "path": f"/{top_name}/eng", "parentId": top,
        "subGroupCount": 0, "subGroups": [], **DETAILS,
    }  # fmt: skip
    trailing = await target.get(f"group-by-path/{top_name}/", token)
    assert trailing.json()["id"] == top
    seeded = (await target.get("group-by-path/staff", token)).json()
    assert (seeded["name"], seeded["path"]) == ("staff", "/staff")


async def test_group_by_path_decodes_the_path(target: Target) -> None:
    name = f"sales team {tag()}"
    group = await make_group(target, name)
    token = await target.token()
    got = await target.get(f"group-by-path/{name.replace(' ', '%20')}", token)
    assert (got.status_code, got.json()["id"], got.json()["path"]) == (200, group, f"/{name}")


async def test_unknown_group_path_is_404_before_any_permission_check(target: Target) -> None:
    token = await target.token()
    missing = {"error": "Group path does not exist"}
    for path in (f"nope-{tag()}", "STAFF", f"staff/nope-{tag()}"):
        got = await target.get(f"group-by-path/{path}", token)
        assert (got.status_code, got.json()) == (404, missing), path
    limited = await target.token("offboard-limited")  # view-events only
    unknown = await target.get(f"group-by-path/nope-{tag()}", limited)
    assert (unknown.status_code, unknown.json()) == (404, missing)
    known = await target.get("group-by-path/staff", limited)
    assert (known.status_code, known.json()) == (403, {"error": "HTTP 403 Forbidden"})


async def test_group_listing_searches_names_and_opens_the_way_to_matching_subgroups(
    target: Target,
) -> None:
    mark = tag()
    first = await make_group(target, f"srch-{mark}-a")
    second = await make_group(target, f"srch-{mark}-b")
    leaf = await make_group(target, f"leaf-{mark}", parent=second)
    token = await target.token()
    found = (await target.get("groups", token, search=f"srch-{mark}")).json()
    assert [g["id"] for g in found] == [first, second]
    assert found[1]["subGroupCount"] == 1
    assert found[1]["subGroups"] == []  # the subgroup does not match the search
    assert set(found[0]) == {"id", "name", "path", "subGroupCount", "subGroups", "access"}
    assert set(found[0]["access"]) == ACCESS_KEYS
    assert found[0]["access"]["manage"] is False  # read-only service account
    deep = (await target.get("groups", token, search=f"LEAF-{mark}")).json()
    assert [g["id"] for g in deep] == [second]
    [sub] = deep[0]["subGroups"]
    assert (sub["id"], sub["path"], sub["parentId"]) == (
        leaf,
        f"/srch-{mark}-b/leaf-{mark}",
        second,
    )
    assert (sub["subGroupCount"], sub["subGroups"]) == (0, [])
    paged = (await target.get("groups", token, search=f"srch-{mark}", first=1, max=1)).json()
    assert [g["id"] for g in paged] == [second]
    full = await target.get("groups", token, search=f"srch-{mark}-a", briefRepresentation="false")
    assert {key: full.json()[0][key] for key in DETAILS} == DETAILS
    bad = await target.get("groups", token, max="abc")
    assert (bad.status_code, bad.json()) == (404, {"error": "HTTP 404 Not Found"})
    limited = await target.get("groups", await target.token("offboard-limited"))
    assert limited.status_code == 403


async def test_members_are_direct_members_only(target: Target) -> None:
    mark = tag()
    top = await make_group(target, f"dept-{mark}")
    child = await make_group(target, "team", parent=top)
    only_top, only_child, both = await target.create_users(f"member-{mark}", 3)
    for user_id, group_id in ((only_top, top), (only_child, child), (both, top), (both, child)):
        await join(target, user_id, group_id)
    token = await target.token()
    in_top = (await target.get(f"groups/{top}/members", token)).json()
    in_child = (await target.get(f"groups/{child}/members", token)).json()
    assert [m["id"] for m in in_top] == [only_top, both]  # by username; not the subgroup's
    assert [m["id"] for m in in_child] == [only_child, both]
    assert {"totp", "requiredActions", "notBefore"} <= set(in_top[0])  # full by default
    assert "access" not in in_top[0]
    brief = (await target.get(f"groups/{top}/members", token, briefRepresentation="true")).json()
    assert set(brief[0]) == BRIEF_USER | {"createdTimestamp"}


async def test_members_page_100_by_default(target: Target) -> None:
    mark = tag()
    group = await make_group(target, f"big-{mark}")
    users = await target.create_users(f"big-{mark}", 101)
    gate = asyncio.Semaphore(6)  # a few joins at a time, as the users were created

    async def join_one(user_id: str) -> None:
        async with gate:
            await join(target, user_id, group)

    await asyncio.gather(*(join_one(user_id) for user_id in users))
    token = await target.token()
    path = f"groups/{group}/members"
    assert len((await target.get(path, token, briefRepresentation="true")).json()) == 100
    rest = (await target.get(path, token, first=100, briefRepresentation="true")).json()
    assert len(rest) == 1
    everyone = (await target.get(path, token, max=-1, briefRepresentation="true")).json()
    assert {m["id"] for m in everyone} == set(users)


async def test_unknown_group_id_is_404_before_any_permission_check(target: Target) -> None:
    token = await target.token()
    limited = await target.token("offboard-limited")
    missing = {"error": "Could not find group by id"}
    for who in (token, limited):
        got = await target.get(f"groups/no-such-{tag()}/members", who)
        assert (got.status_code, got.json()) == (404, missing)
    staff = (await target.get("group-by-path/staff", token)).json()["id"]
    forbidden = await target.get(f"groups/{staff}/members", limited)
    assert forbidden.status_code == 403


async def test_user_groups_lists_direct_groups_by_name_with_full_paths(target: Target) -> None:
    mark = tag()
    top = await make_group(target, f"org-{mark}")
    child = await make_group(target, "ops", parent=top)
    [user] = await target.create_users(f"joiner-{mark}", 1)
    await join(target, user, top)
    await join(target, user, child)
    await join(target, user, child)  # joining again changes nothing
    token = await target.token()
    mine = (await target.get(f"users/{user}/groups", token)).json()
    assert mine == [
        {"id": child, "name": "ops", "path": f"/org-{mark}/ops", "parentId": top, "subGroups": []},
        {"id": top, "name": f"org-{mark}", "path": f"/org-{mark}", "subGroups": []},
    ]
    assert (await target.get(f"users/{user}/groups", token, search="OPS")).json() == mine[:1]
    assert (await target.get(f"users/{user}/groups", token, first=1, max=1)).json() == mine[1:]
    full = (await target.get(f"users/{user}/groups", token, briefRepresentation="false")).json()
    assert full[1] == {**mine[1], **DETAILS}
    unknown = await target.get(f"users/no-such-{tag()}/groups", token)
    assert (unknown.status_code, unknown.json()) == (404, {"error": "User not found"})


async def test_leaving_a_group_is_idempotent_and_recorded(target: Target) -> None:
    mark = tag()
    top = await make_group(target, f"left-{mark}")
    [user] = await target.create_users(f"leaver-{mark}", 1)
    await join(target, user, top)
    for _ in range(2):  # leaving twice is fine too
        left = await target.admin("DELETE", f"users/{user}/groups/{top}")
        assert left.status_code == 204
    token = await target.token()
    assert (await target.get(f"users/{user}/groups", token)).json() == []
    assert (await target.get(f"groups/{top}/members", token)).json() == []
    nope = await admin_status(target, "DELETE", f"users/{user}/groups/no-such-{mark}")
    assert (nope.status_code, nope.json()) == (404, {"error": "Group not found"})
    events = await target.get(
        "admin-events", token, resourceTypes="GROUP_MEMBERSHIP", resourcePath=f"users/{user}/*"
    )
    operations = [(e["operationType"], e["resourcePath"]) for e in events.json()]
    assert operations[-1] == ("CREATE", f"users/{user}/groups/{top}")
    assert ("DELETE", f"users/{user}/groups/{top}") in operations
    representation = json.loads(events.json()[0]["representation"])
    assert {"id": top, "name": f"left-{mark}", "path": f"/left-{mark}"}.items() <= (
        representation.items()
    )


async def test_sibling_names_are_unique(target: Target) -> None:
    name = f"dup-{tag()}"
    top = await make_group(target, name)
    await make_group(target, "same", parent=top)
    again = await admin_status(target, "POST", "groups", json={"name": name})
    message = f"Top level group named '{name}' already exists."
    assert (again.status_code, again.json()) == (409, {"errorMessage": message})
    sibling = await admin_status(target, "POST", f"groups/{top}/children", json={"name": "same"})
    message = "Sibling group named 'same' already exists."
    assert (sibling.status_code, sibling.json()) == (409, {"errorMessage": message})


async def test_children_lists_the_direct_subgroups_with_their_paths(target: Target) -> None:
    """``groups/{id}/children`` (Keycloak 23+): what provisioning walks below a prefix."""
    top_name = f"prefix-{tag()}"
    top = await make_group(target, top_name)
    eng = await make_group(target, "eng", parent=top)
    await make_group(target, "ops", parent=top)
    await make_group(target, "web", parent=eng)
    token = await target.token()
    got = await target.get(f"groups/{top}/children", token, first=0, max=100)
    assert got.status_code == 200
    children = got.json()
    assert sorted((c["name"], c["path"]) for c in children) == [
        ("eng", f"/{top_name}/eng"),
        ("ops", f"/{top_name}/ops"),
    ]
    nested = await target.get(f"groups/{eng}/children", token)
    assert [c["path"] for c in nested.json()] == [f"/{top_name}/eng/web"]
