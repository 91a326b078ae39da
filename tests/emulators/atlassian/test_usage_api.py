"""Use and billing in the emulator: last-active dates and user API tokens, checked against
the vendor documents and for the rules a caller relies on."""

from __future__ import annotations

import httpx

from offboard_emulators.atlassian import AtlassianState, generate_accounts
from offboard_emulators.atlassian.usage import PRODUCTS, tokens_of, vary_activity
from tests.emulators.atlassian.conftest import ADMIN, LEAVER, ORG, ORG_KEY, OWNER, UNMANAGED
from tests.emulators.atlassian.spec_check import ORG_SPEC, UM_SPEC, assert_matches, needs_specs

LAST_ACTIVE = "/v1/orgs/{orgId}/directory/users/{accountId}/last-active-dates"
TOKENS = "/users/{account_id}/manage/api-tokens"


def _last_active_url(account_id: str) -> str:
    return f"/admin/v1/orgs/{ORG}/directory/users/{account_id}/last-active-dates"


@needs_specs
async def test_last_active_dates_fit_the_spec(client: httpx.AsyncClient) -> None:
    used = await client.get(_last_active_url(OWNER), headers=ORG_KEY)
    assert_matches(ORG_SPEC, LAST_ACTIVE, used)
    assert used.json()["data"]["product_access"] == [
        {
            "id": "confluence/https://emulated.atlassian.net",
            "key": "confluence",
            "last_active": "2026-03-02",
        }
    ]
    never = await client.get(_last_active_url(UNMANAGED), headers=ORG_KEY)
    assert_matches(ORG_SPEC, LAST_ACTIVE, never)
    assert never.json()["data"]["product_access"] == []
    missing = await client.get(_last_active_url("nobody"), headers=ORG_KEY)
    assert_matches(ORG_SPEC, LAST_ACTIVE, missing)
    assert missing.status_code == 404


@needs_specs
async def test_last_active_dates_page_by_cursor(
    client: httpx.AsyncClient, tenant: AtlassianState
) -> None:
    """The spec documents ``cursor`` and ``links.next`` (``CursorNextPageModel``): the
    products of one account come a page at a time, and a made-up cursor is a 400."""
    tenant.orgs[ORG].settings.v1_page_size = 1
    vary_activity(tenant, [ADMIN])
    pages = [await client.get(_last_active_url(ADMIN), headers=ORG_KEY)]
    while cursor := pages[-1].json()["links"].get("next"):
        params = {"cursor": cursor}
        pages.append(await client.get(_last_active_url(ADMIN), params=params, headers=ORG_KEY))
    keys = [p["key"] for page in pages for p in page.json()["data"]["product_access"]]
    assert keys == [p.key for p in tenant.account(ADMIN).product_access if p.last_active]
    assert len(pages) == len(keys) > 1
    bad = await client.get(_last_active_url(ADMIN), params={"cursor": "x"}, headers=ORG_KEY)
    assert bad.status_code == 400
    for response in (*pages, bad):
        assert_matches(ORG_SPEC, LAST_ACTIVE, response)


@needs_specs
async def test_token_calls_fit_the_spec(client: httpx.AsyncClient) -> None:
    listed = await client.get(f"/users/{LEAVER}/manage/api-tokens", headers=ORG_KEY)
    assert_matches(UM_SPEC, TOKENS, listed)
    assert [t["id"] for t in listed.json()] == ["tok-leaver-1", "tok-leaver-2"]
    gone = await client.delete(f"/users/{LEAVER}/manage/api-tokens/tok-leaver-1", headers=ORG_KEY)
    assert_matches(UM_SPEC, f"{TOKENS}/{{tokenId}}", gone)
    again = await client.delete(f"/users/{LEAVER}/manage/api-tokens/tok-leaver-1", headers=ORG_KEY)
    assert_matches(UM_SPEC, f"{TOKENS}/{{tokenId}}", again)
    assert (gone.status_code, again.status_code) == (204, 404)
    unmanaged = await client.get(f"/users/{UNMANAGED}/manage/api-tokens", headers=ORG_KEY)
    assert_matches(UM_SPEC, TOKENS, unmanaged)
    assert unmanaged.status_code == 403


async def test_a_token_of_another_account_cannot_be_revoked(
    client: httpx.AsyncClient, tenant: AtlassianState
) -> None:
    answer = await client.delete(f"/users/{LEAVER}/manage/api-tokens/tok-admin-1", headers=ORG_KEY)
    assert answer.status_code == 404
    assert [t.token_id for t in tokens_of(tenant, ADMIN)] == ["tok-admin-1"]


def test_varied_activity_is_realistic() -> None:
    state = AtlassianState()
    state.add_org("org", "Org")
    ids = generate_accounts(state, "org", 2000, domain="example.com")
    vary_activity(state, ids, tokens_every=10)
    accounts = [state.account(i) for i in ids]
    never = [a for a in accounts if a.last_active is None]
    products = {p.key for a in accounts for p in a.product_access}
    ages = [(state.clock() - a.last_active).days for a in accounts if a.last_active]
    assert 100 < len(never) < 500
    assert products == set(PRODUCTS)
    assert min(ages) < 7
    assert max(ages) > 365
    assert sum(len(tokens_of(state, i)) for i in ids) >= 200
