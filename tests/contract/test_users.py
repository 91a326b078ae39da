"""Users: listing and paging, count, reads by id, disable and delete, 404 versus 403."""

from __future__ import annotations

import secrets

from tests.contract.targets import Target

BRIEF_KEYS = {"id", "username", "firstName", "lastName", "email", "emailVerified", "enabled"}


def prefix(name: str) -> str:
    """A username prefix no earlier session on a reused real server has taken."""
    return f"{name}-{secrets.token_hex(3)}"


async def test_listing_pages_by_username_with_default_max_100(target: Target) -> None:
    tag = prefix("page")
    ids = await target.create_users(tag, 103)
    token = await target.token()
    first_page = (await target.get("users", token, search=tag)).json()
    assert len(first_page) == 100  # max defaults to 100
    pages = [
        (await target.get("users", token, search=tag, first=start, max=40)).json()
        for start in (0, 40, 80, 120)
    ]
    assert [len(p) for p in pages] == [40, 40, 23, 0]
    names = [user["username"] for p in pages for user in p]
    assert names == sorted(f"{tag}-{n:03d}" for n in range(103))
    assert {user["id"] for p in pages for user in p} == set(ids)


async def test_brief_and_full_representations(target: Target) -> None:
    token = await target.token()
    brief = (await target.get("users", token, username="alice", briefRepresentation="true")).json()
    full = (await target.get("users", token, username="alice", exact="true")).json()
    assert BRIEF_KEYS | {"createdTimestamp", "access"} == set(brief[0])
    assert {"totp", "requiredActions", "notBefore"} <= set(full[0])
    assert full[0]["email"] == "alice@example.test"
    assert full[0]["access"] == {"manage": False}  # read-only service account


async def test_search_is_a_case_insensitive_prefix_and_field_filters_are_substrings(
    target: Target,
) -> None:
    token = await target.token()

    async def names(**params: str) -> list[str]:
        return [u["username"] for u in (await target.get("users", token, **params)).json()]

    assert await names(search="ALI") == ["alice"]
    assert await names(search="lice") == []
    assert await names(search="*lice*") == ["alice"]
    assert await names(username="lic") == ["alice"]
    assert await names(username="lic", exact="true") == []
    assert await names(q="department:engineering") == ["carol"]


async def test_count_and_service_accounts(target: Target) -> None:
    token = await target.token()
    tag = prefix("count")
    await target.create_users(tag, 3)
    assert (await target.get("users/count", token, search=tag)).json() == 3
    listed = (await target.get("users", token, max=-1, briefRepresentation="true")).json()
    assert (await target.get("users/count", token)).json() == len(listed)
    assert not any(u["username"].startswith("service-account-") for u in listed)
    sa = await target.get("users", token, username="service-account-offboard", exact="true")
    assert [u["username"] for u in sa.json()] == ["service-account-offboard"]
    bob = await target.get("users/count", token, username="bob", enabled="false")
    assert bob.json() == 1


async def test_disable_is_visible_by_id_and_in_filtered_listings(target: Target) -> None:
    username = prefix("leaver")
    user_id = await target.create_user(username)
    await target.set_enabled(user_id, False)
    token = await target.token()
    by_id = await target.get(f"users/{user_id}", token)
    assert by_id.status_code == 200
    assert by_id.json()["enabled"] is False
    disabled = (await target.get("users", token, enabled="false", username=username)).json()
    assert [u["id"] for u in disabled] == [user_id]


async def test_the_listing_of_disabled_users_pages_like_its_count(target: Target) -> None:
    tag = prefix("off")
    ids = await target.create_users(tag, 5)
    for user_id in ids[:3]:
        await target.set_enabled(user_id, False)
    token = await target.token()
    count = (await target.get("users/count", token, enabled="false")).json()
    pages = [
        (await target.get("users", token, enabled="false", briefRepresentation="true",
                          first=start, max=2)).json()
        for start in range(0, count + 2, 2)
    ]  # fmt: skip
    listed = [user for page in pages for user in page]
    assert len(listed) == count
    assert all(user["enabled"] is False for user in listed)
    assert set(ids) & {user["id"] for user in listed} == set(ids[:3])


async def test_delete_is_a_404_by_id(target: Target) -> None:
    user_id = await target.create_user(prefix("gone"))
    await target.admin("DELETE", f"users/{user_id}")
    response = await target.get(f"users/{user_id}", await target.token())
    assert response.status_code == 404
    assert response.json() == {"error": "User not found"}


async def test_unknown_id_is_404_to_readers_and_403_to_others(target: Target) -> None:
    unknown = "00000000-0000-0000-0000-000000000000"
    reader = await target.get(f"users/{unknown}", await target.token())
    assert (reader.status_code, reader.json()) == (404, {"error": "User not found"})
    limited = await target.token("offboard-limited")
    other = await target.get(f"users/{unknown}", limited)
    assert (other.status_code, other.json()) == (403, {"error": "HTTP 403 Forbidden"})
    assert (await target.get("users", limited)).status_code == 403


async def test_service_account_may_not_write(target: Target) -> None:
    user_id = await target.create_user(prefix("readonly"))
    token = await target.token()
    response = await target.http.put(
        f"{target.admin_path}/users/{user_id}",
        json={"enabled": False},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 403


async def test_groups_and_members(target: Target) -> None:
    token = await target.token()
    groups = (await target.get("groups", token)).json()
    names = [g["name"] for g in groups]  # a shared server may hold other sessions' groups
    assert {"contractors", "staff"} <= set(names)
    assert names == sorted(names)
    staff = next(g for g in groups if g["name"] == "staff")
    assert {"id", "name", "path", "subGroupCount", "subGroups", "access"} == set(staff)
    everyone = (await target.get(f"groups/{staff['id']}/members", token)).json()
    usernames = [m["username"] for m in everyone]
    assert {"alice", "bob"} <= set(usernames)
    assert usernames == sorted(usernames)
    assert "access" not in everyone[0]
    first = (await target.get(f"groups/{staff['id']}/members", token, max=1)).json()
    rest = (await target.get(f"groups/{staff['id']}/members", token, first=1)).json()
    assert [m["id"] for m in first + rest] == [m["id"] for m in everyone]
    alice = next(m["id"] for m in everyone if m["username"] == "alice")
    mine = (await target.get(f"users/{alice}/groups", token)).json()
    assert mine == [{"id": staff["id"], "name": "staff", "path": "/staff", "subGroups": []}]


async def test_unknown_realm_and_bad_paging_parameters(target: Target) -> None:
    token = await target.token()
    headers = {"Authorization": f"Bearer {token}"}
    nope = await target.http.get("/admin/realms/no-such-realm/users", headers=headers)
    assert nope.status_code in (403, 404)
    bad = await target.get("users", token, max="abc")
    assert (bad.status_code, bad.json()) == (404, {"error": "HTTP 404 Not Found"})


async def test_created_after_and_before_are_inclusive(target: Target) -> None:
    user_id = await target.create_user(prefix("new"))
    token = await target.token()
    created = (await target.get(f"users/{user_id}", token)).json()["createdTimestamp"]
    at = str(created)
    exactly = await target.get("users", token, createdAfter=at, createdBefore=at, max=-1)
    assert user_id in [u["id"] for u in exactly.json()]
    old = await target.get("users/count", token, createdBefore="2000-01-01")
    assert old.json() == 0
