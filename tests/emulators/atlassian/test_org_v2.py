"""Organizations API v2: directories and directory users (list, search, details, actions)."""

from __future__ import annotations

import httpx

from offboard_emulators.atlassian import AtlassianState
from offboard_emulators.atlassian.model import Directory
from tests.emulators.atlassian.conftest import ADMIN, EXPIRED_KEY, LEAVER, ORG, ORG_KEY, UNMANAGED

DIRS = f"/admin/v2/orgs/{ORG}/directories"
USERS = f"{DIRS}/dir-main/users"


async def test_directories_list_and_filter(
    client: httpx.AsyncClient, tenant: AtlassianState
) -> None:
    tenant.add_directory(ORG, Directory("dir-two", "Second directory"))
    every = (await client.get(DIRS, headers=ORG_KEY)).json()
    assert [d["directoryId"] for d in every["data"]] == ["dir-main", "dir-two"]
    paged = (await client.get(DIRS, params={"limit": 1}, headers=ORG_KEY)).json()
    assert len(paged["data"]) == 1
    rest = (
        await client.get(DIRS, params={"cursor": paged["links"]["next"]}, headers=ORG_KEY)
    ).json()
    assert rest["data"][0]["directoryId"] == "dir-two"
    mine = (await client.get(DIRS, params={"accountId": LEAVER}, headers=ORG_KEY)).json()
    assert [d["directoryId"] for d in mine["data"]] == ["dir-main"]


async def test_directory_cursor_carries_the_account_filter(
    client: httpx.AsyncClient, tenant: AtlassianState
) -> None:
    """``cursorParam``: with a cursor "all other parameters are discarded" (Organizations
    spec), so the cursor itself holds the ``accountId`` filter. offboard asks page 2 with the
    cursor alone: it must still list only the directories holding the account."""
    for n in range(3):
        tenant.add_directory(ORG, Directory(f"dir-x{n}", f"Extra {n}"))
    tenant.orgs[ORG].directories["dir-x2"].memberships[LEAVER] = "active"
    first = await client.get(DIRS, params={"accountId": LEAVER, "limit": 1}, headers=ORG_KEY)
    cursor = first.json()["links"]["next"]
    alone = await client.get(DIRS, params={"cursor": cursor, "limit": 1}, headers=ORG_KEY)
    other = {"cursor": cursor, "limit": 1, "accountId": ADMIN}
    ignored = await client.get(DIRS, params=other, headers=ORG_KEY)
    assert [d["directoryId"] for d in first.json()["data"]] == ["dir-main"]
    assert [d["directoryId"] for d in alone.json()["data"]] == ["dir-x2"]
    assert ignored.json()["data"] == alone.json()["data"]
    assert "next" not in alone.json()["links"]


async def test_list_defaults_to_20_and_cursor_overrides_filters(client: httpx.AsyncClient) -> None:
    first = (await client.get(USERS, params={"claimStatus": "managed"}, headers=ORG_KEY)).json()
    assert len(first["data"]) == 20
    cursor = first["links"]["next"]
    params = {"cursor": cursor, "claimStatus": "unmanaged"}
    second = (await client.get(USERS, params=params, headers=ORG_KEY)).json()
    assert {u["claimStatus"] for u in second["data"]} == {"managed"}
    assert len(first["data"]) + len(second["data"]) == 25
    assert "next" not in second["links"]


async def test_limit_bounds_are_400(client: httpx.AsyncClient) -> None:
    for limit in ("0", "101", "x"):
        response = await client.get(USERS, params={"limit": limit}, headers=ORG_KEY)
        assert response.status_code == 400
        assert "errors" in response.json()


async def test_search_by_exact_email_with_expand(client: httpx.AsyncClient) -> None:
    body = {"emails": ["LEAVER@example.com"], "expand": ["productAccess", "groups"]}
    found = (await client.post(f"{DIRS}/-/users/search", json=body, headers=ORG_KEY)).json()
    assert [u["accountId"] for u in found["data"]] == [LEAVER]
    user = found["data"][0]
    assert user["status"] == "active"
    assert user["membershipStatus"] == "active"
    assert user["productAccess"] == []
    assert user["groups"] == []
    plain = (
        await client.post(
            f"{DIRS}/-/users/search", json={"emails": [f"{LEAVER}@x"]}, headers=ORG_KEY
        )
    ).json()
    assert plain["data"] == []


async def test_the_emails_filter_can_be_made_to_match_case_too(
    client: httpx.AsyncClient, tenant: AtlassianState
) -> None:
    """Atlassian documents the filter as exact without a word on case: the switch lets
    tests hold offboard to the stricter reading."""
    stored = tenant.accounts[LEAVER].email
    search = f"{DIRS}/-/users/search"
    tenant.realism.emails_filter_ignores_case = False
    for spelling, found in ((stored.upper(), []), (stored, [LEAVER])):
        page = (await client.post(search, json={"emails": [spelling]}, headers=ORG_KEY)).json()
        assert [u["accountId"] for u in page["data"]] == found


async def test_search_term_with_emails_is_400_and_default_limit_is_50(
    client: httpx.AsyncClient, tenant: AtlassianState
) -> None:
    both = {"searchTerm": "lee", "emails": ["leaver@example.com"]}
    response = await client.post(f"{USERS}/search", json=both, headers=ORG_KEY)
    assert response.status_code == 400
    assert response.json()["errors"][0]["status"] == "400"
    from offboard_emulators.atlassian import generate_accounts

    generate_accounts(tenant, ORG, 60, domain="example.com", directory_id="dir-main", prefix="more")
    page = (await client.post(f"{USERS}/search", json={}, headers=ORG_KEY)).json()
    assert len(page["data"]) == 50
    term = (
        await client.post(f"{USERS}/search", json={"searchTerm": "LEAVER"}, headers=ORG_KEY)
    ).json()
    assert [u["accountId"] for u in term["data"]] == [LEAVER]


async def test_details_count_and_status_composites(client: httpx.AsyncClient) -> None:
    detail = (await client.get(f"{USERS}/{UNMANAGED}", headers=ORG_KEY)).json()["data"]
    assert detail["claimStatus"] == "unmanaged"
    assert detail["managementSource"] == "invited"
    count = (await client.get(f"{USERS}/count", headers=ORG_KEY)).json()
    assert count == {"count": 26}
    await client.post(f"{USERS}/{LEAVER}/suspend", headers=ORG_KEY)
    suspended = (
        await client.get(f"{USERS}/count", params={"status": "suspended"}, headers=ORG_KEY)
    ).json()
    assert suspended == {"count": 1}
    await client.post(f"/users/{ADMIN}/manage/lifecycle/disable", headers=ORG_KEY)
    admin = (await client.get(f"{USERS}/{ADMIN}", headers=ORG_KEY)).json()["data"]
    assert admin["status"] == "active"  # refused: the key's own account


async def test_suspend_restore_remove_and_dash_directory(
    client: httpx.AsyncClient, tenant: AtlassianState
) -> None:
    assert (await client.post(f"{USERS}/{LEAVER}/suspend", headers=ORG_KEY)).status_code == 204
    detail = (await client.get(f"{DIRS}/-/users/{LEAVER}", headers=ORG_KEY)).json()["data"]
    assert detail["status"] == "suspended"
    assert detail["membershipStatus"] == "suspended"
    # Only the reads take "-" (every directory); a write names its directory (jira.js).
    dash = await client.post(f"{DIRS}/-/users/{LEAVER}/restore", headers=ORG_KEY)
    assert dash.status_code == 404
    assert "errors" in dash.json()
    assert tenant.orgs[ORG].directories["dir-main"].memberships[LEAVER] == "suspended"
    tenant.realism.membership_actions_need_a_directory = False
    assert (
        await client.post(f"{DIRS}/-/users/{LEAVER}/restore", headers=ORG_KEY)
    ).status_code == 204
    assert tenant.orgs[ORG].directories["dir-main"].memberships[LEAVER] == "active"
    assert (await client.delete(f"{USERS}/{LEAVER}", headers=ORG_KEY)).status_code == 204
    gone = await client.get(f"{USERS}/{LEAVER}", headers=ORG_KEY)
    assert gone.status_code == 404
    assert gone.json()["errors"][0]["code"] == "ADMIN-404-8"
    outside = (await client.get(f"{DIRS}/-/users/{LEAVER}", headers=ORG_KEY)).json()["data"]
    assert outside["status"] == "not_invited"


async def test_v2_errors_use_the_errors_body(client: httpx.AsyncClient) -> None:
    unauthorized = await client.get(USERS, headers=EXPIRED_KEY)
    assert unauthorized.status_code == 401
    assert unauthorized.json()["errors"][0]["status"] == "401"
    unknown_dir = await client.get(f"{DIRS}/nope/users", headers=ORG_KEY)
    assert unknown_dir.status_code == 404
    assert "errors" in unknown_dir.json()
    bad_cursor = await client.get(USERS, params={"cursor": "x"}, headers=ORG_KEY)
    assert bad_cursor.json()["errors"][0]["code"] == "ADMIN-400-1"


async def test_a_repeated_suspension_can_answer_409(
    client: httpx.AsyncClient, tenant: AtlassianState
) -> None:
    """Atlassian documents no answer for a repeat: 204 by default, 409 per org switch."""
    first = await client.post(f"{USERS}/{LEAVER}/suspend", headers=ORG_KEY)
    again = await client.post(f"{USERS}/{LEAVER}/suspend", headers=ORG_KEY)
    tenant.orgs[ORG].settings.membership_repeat_conflict = True
    third = await client.post(f"{USERS}/{LEAVER}/suspend", headers=ORG_KEY)
    restored = await client.post(f"{USERS}/{LEAVER}/restore", headers=ORG_KEY)
    assert [r.status_code for r in (first, again, third, restored)] == [204, 204, 409, 204]
    assert third.json()["errors"][0]["code"] == "ADMIN-409-1"


async def test_search_filters_are_held_to_their_documented_types_and_values(
    client: httpx.AsyncClient,
) -> None:
    """The v2 search body's filters have types and closed sets of values (jira.js
    ``MultiDirectoryUserSearchRequestSchema``, reference §1.5): ``claimStatus`` is one string,
    the statuses and roles are arrays of known values. A tenant answers 400 to the rest; an
    emulator that matched nothing instead would hide a malformed request behind an empty page."""
    refused = [
        {"claimStatus": ["managed"]},
        {"claimStatus": "owned"},
        {"status": "active"},
        {"status": ["gone"]},
        {"accountStatus": ["ACTIVE"]},
        {"membershipStatus": []},
        {"roleIds": ["atlassian/overlord"]},
        {"expand": ["everything"]},
        {"directoryIds": [f"d{n}" for n in range(11)]},
        {"emails": "leaver@example.com"},
        {"searchTerm": ["lee"]},
    ]
    for body in refused:
        response = await client.post(f"{DIRS}/-/users/search", json=body, headers=ORG_KEY)
        assert response.status_code == 400, body
        assert response.json()["errors"][0]["code"] == "ADMIN-400-24"
    accepted = {
        "claimStatus": "managed",
        "status": ["active", "for_deletion"],
        "accountStatus": ["active"],
        "membershipStatus": ["active", "suspended"],
        "roleIds": ["atlassian/user", "atlassian/ai-access"],
        "expand": ["platformRoles", "counts.resources"],
    }
    response = await client.post(f"{DIRS}/-/users/search", json=accepted, headers=ORG_KEY)
    assert response.status_code == 200, response.text


async def test_list_filters_in_the_query_are_held_to_their_documented_values(
    client: httpx.AsyncClient,
) -> None:
    for params in (
        {"status": "gone"},
        {"accountStatus": "ACTIVE"},
        {"claimStatus": "owned"},
        {"claimStatus": ["managed", "unmanaged"]},
        {"roleIds": "atlassian/overlord"},
    ):
        response = await client.get(USERS, params=params, headers=ORG_KEY)
        assert response.status_code == 400, params
    response = await client.get(USERS, params={"status": ["active", "suspended"]}, headers=ORG_KEY)
    assert response.status_code == 200


async def test_a_limit_on_the_emails_filter_can_be_set_to_show_a_tenant_that_has_one(
    client: httpx.AsyncClient, tenant: AtlassianState
) -> None:
    """Atlassian documents no maxItems for ``emails``: unlimited by default, and a test may
    set one (the other id filters take ten) to hold the adapter to a stricter tenant."""
    emails = [f"p{n}@example.com" for n in range(11)]
    search = f"{DIRS}/-/users/search"
    assert (await client.post(search, json={"emails": emails}, headers=ORG_KEY)).status_code == 200
    tenant.realism.emails_filter_max = 10
    refused = await client.post(search, json={"emails": emails}, headers=ORG_KEY)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "ADMIN-400-24"
