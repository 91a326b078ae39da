"""Organizations API v1: orgs, managed accounts list, search, domains, directory actions."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import httpx

from offboard_emulators.atlassian import AtlassianState
from tests.emulators.atlassian.conftest import (
    EXPIRED_KEY,
    LEAVER,
    ORG,
    ORG_KEY,
    SCIM_KEY,
    UNMANAGED,
)
from tests.emulators.atlassian.spec_check import ORG_SPEC, assert_matches

USERS = f"/admin/v1/orgs/{ORG}/users"


async def test_orgs_lists_the_key_org_and_gets_it_by_id(client: httpx.AsyncClient) -> None:
    listed = (await client.get("/admin/v1/orgs", headers=ORG_KEY)).json()
    assert [org["id"] for org in listed["data"]] == [ORG]
    one = (await client.get(f"/admin/v1/orgs/{ORG}", headers=ORG_KEY)).json()["data"]
    assert one["type"] == "orgs"
    assert one["attributes"]["name"] == "Example Corp"


async def test_users_pages_follow_links_next_url_cursor(
    client: httpx.AsyncClient, tenant: AtlassianState
) -> None:
    tenant.orgs[ORG].settings.v1_page_size = 7
    seen: list[str] = []
    url: str | None = USERS
    pages = 0
    while url:
        body = (await client.get(url, headers=ORG_KEY)).json()
        seen += [user["account_id"] for user in body["data"]]
        assert body["meta"]["total"] == 25  # 26 accounts, one on an unverified domain
        url = body["links"].get("next")
        if url:
            assert parse_qs(urlparse(url).query)["cursor"]
        pages += 1
    assert len(seen) == len(set(seen)) == 25
    assert UNMANAGED not in seen
    assert pages == 4


async def test_users_emit_nanosecond_last_active(client: httpx.AsyncClient) -> None:
    first = (await client.get(USERS, headers=ORG_KEY)).json()["data"][0]
    stamp = first["product_access"][0]["last_active"]
    fraction = stamp.split(".")[1].rstrip("Z")
    assert len(fraction) == 9


async def test_bad_cursor_is_admin_400_1(client: httpx.AsyncClient) -> None:
    response = await client.get(USERS, params={"cursor": "garbage"}, headers=ORG_KEY)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "ADMIN-400-1"


async def test_unknown_expired_and_directory_keys_get_proxy_401(client: httpx.AsyncClient) -> None:
    for headers in ({"Authorization": "Bearer nope"}, EXPIRED_KEY, SCIM_KEY, {}):
        response = await client.get(USERS, headers=headers)
        assert response.status_code == 401
        assert set(response.json()) == {"code", "message"}
        assert response.json()["code"] == 401


async def test_other_org_is_no_perms_and_unknown_org_is_404(
    client: httpx.AsyncClient, tenant: AtlassianState
) -> None:
    tenant.add_org("other-org", "Other")
    forbidden = await client.get("/admin/v1/orgs/other-org/users", headers=ORG_KEY)
    assert forbidden.status_code == 403
    assert forbidden.json()["error"] == "Forbidden"
    assert forbidden.json()["status"] == 403
    missing = await client.get("/admin/v1/orgs/nope/users", headers=ORG_KEY)
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "ADMIN-404-2"


async def test_search_filters_expands_and_pages_with_opaque_cursors(
    client: httpx.AsyncClient,
) -> None:
    body = {"emailDomains": {"eq": ["example.com"]}, "limit": 10, "expand": ["EMAIL"]}
    first = (await client.post(f"{USERS}/search", json=body, headers=ORG_KEY)).json()
    assert len(first["data"]) == 10
    assert "email" in first["data"][0]
    assert "name" not in first["data"][0]
    assert not first["links"]["next"].startswith("http")
    emails: list[str] = [u["email"] for u in first["data"]]
    cursor = first["links"].get("next")
    while cursor:
        page = (
            await client.post(f"{USERS}/search", json={"cursor": cursor}, headers=ORG_KEY)
        ).json()
        emails += [u["email"] for u in page["data"]]
        cursor = page["links"].get("next")
    assert len(emails) == 25
    assert all(e.endswith("@example.com") for e in emails)


async def test_search_by_status_and_invalid_bodies(client: httpx.AsyncClient) -> None:
    await client.post(f"/users/{LEAVER}/manage/lifecycle/disable", headers=ORG_KEY)
    inactive = await client.post(
        f"{USERS}/search", json={"accountStatuses": ["INACTIVE"]}, headers=ORG_KEY
    )
    assert [u["accountId"] for u in inactive.json()["data"]] == [LEAVER]
    for bad in (b"[1]", b"{", b""):
        response = await client.post(f"{USERS}/search", content=bad, headers=ORG_KEY)
        assert response.status_code == 400
        assert response.json()["errors"][0]["code"] == "ADMIN-400-24"
    too_many = {"accountIds": [str(n) for n in range(101)]}
    response = await client.post(f"{USERS}/search", json=too_many, headers=ORG_KEY)
    assert response.status_code == 400


async def test_domains_show_claim_status(client: httpx.AsyncClient) -> None:
    data = (await client.get(f"/admin/v1/orgs/{ORG}/domains", headers=ORG_KEY)).json()["data"]
    claims = {d["attributes"]["name"]: d["attributes"]["claim"]["status"] for d in data}
    assert claims == {"example.com": "verified", "example.org": "unverified"}
    one = await client.get(f"/admin/v1/orgs/{ORG}/domains/dom-example", headers=ORG_KEY)
    assert one.json()["data"]["id"] == "dom-example"
    missing = await client.get(f"/admin/v1/orgs/{ORG}/domains/nope", headers=ORG_KEY)
    assert missing.json()["errors"][0]["code"] == "ADMIN-404-3"


async def test_domains_page_by_url_cursor_and_refuse_unknown_cursors(
    client: httpx.AsyncClient, tenant: AtlassianState
) -> None:
    """``getDomains`` returns domains "one page at a time" (``DomainPage``, links as URLs)
    and documents 400 ``Error.InvalidPageCursor``; ``getOrgs`` documents the same 400."""
    tenant.orgs[ORG].settings.v1_page_size = 1
    url: str | None = f"/admin/v1/orgs/{ORG}/domains"
    pages: list[httpx.Response] = []
    while url:
        pages.append(await client.get(url, headers=ORG_KEY))
        url = pages[-1].json()["links"].get("next")
    names = [d["attributes"]["name"] for page in pages for d in page.json()["data"]]
    assert names == ["example.com", "example.org"]
    bad = {"cursor": "garbage"}
    refused = [
        await client.get(f"/admin/v1/orgs/{ORG}/domains", params=bad, headers=ORG_KEY),
        await client.get("/admin/v1/orgs", params=bad, headers=ORG_KEY),
    ]
    for response in refused:
        assert response.status_code == 400
        assert response.json()["errors"][0]["code"] == "ADMIN-400-1"
    for page in [*pages, refused[0]]:
        assert_matches(ORG_SPEC, "/v1/orgs/{orgId}/domains", page)
    assert_matches(ORG_SPEC, "/v1/orgs", refused[1])


async def test_v1_directory_suspend_restore_remove(
    client: httpx.AsyncClient, tenant: AtlassianState
) -> None:
    base = f"/admin/v1/orgs/{ORG}/directory/users/{LEAVER}"
    suspended = await client.post(f"{base}/suspend-access", headers=ORG_KEY)
    assert suspended.status_code == 200
    assert suspended.json()["message"] == (
        f"Access to organization {ORG} was suspended for user {LEAVER}"
    )
    assert tenant.orgs[ORG].directories["dir-main"].memberships[LEAVER] == "suspended"
    restored = await client.post(f"{base}/restore-access", headers=ORG_KEY)
    assert restored.status_code == 200
    assert "restored" in restored.json()["message"]
    removed = await client.delete(base, headers=ORG_KEY)
    assert removed.status_code == 204
    assert LEAVER not in tenant.orgs[ORG].directories["dir-main"].memberships
    again = await client.post(f"{base}/suspend-access", headers=ORG_KEY)
    assert again.status_code == 404
    assert again.json()["errors"][0]["code"] == "ADMIN-404-8"


async def test_suspended_and_inactive_accounts_are_not_billable(client: httpx.AsyncClient) -> None:
    def billable(users: list[dict[str, object]]) -> dict[object, object]:
        return {u["account_id"]: u["access_billable"] for u in users}

    before = billable((await client.get(USERS, headers=ORG_KEY)).json()["data"])
    assert before[LEAVER] is True
    await client.post(
        f"/admin/v1/orgs/{ORG}/directory/users/{LEAVER}/suspend-access", headers=ORG_KEY
    )
    suspended = billable((await client.get(USERS, headers=ORG_KEY)).json()["data"])
    assert suspended[LEAVER] is False
    await client.post(
        f"/admin/v1/orgs/{ORG}/directory/users/{LEAVER}/restore-access", headers=ORG_KEY
    )
    await client.post(f"/users/{LEAVER}/manage/lifecycle/disable", headers=ORG_KEY)
    disabled = billable((await client.get(USERS, headers=ORG_KEY)).json()["data"])
    assert disabled[LEAVER] is False
