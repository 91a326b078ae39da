"""The use-and-billing reads and the token calls, against the Atlassian emulator in-process.

The emulator's own records are the independent truth each read is compared with.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from offboard.adapters.atlassian import AtlassianDirectory
from offboard.adapters.atlassian_org.usage import UsageReader
from offboard.ports import PermanentError
from offboard_emulators.atlassian import AtlassianState, create_app, load_fixture, seed
from offboard_emulators.atlassian.fixture import generate_accounts
from offboard_emulators.atlassian.usage import tokens_of, vary_activity
from tests.adapters.atlassian.test_against_emulator import (
    ADMIN,
    EXAMPLE,
    LEAVER,
    ORG,
    OWNER,
    UNMANAGED,
    directory,
)


@pytest.fixture
def tenant() -> AtlassianState:
    state = AtlassianState()
    seed(state, load_fixture(EXAMPLE))
    ids = generate_accounts(
        state, ORG, 450, domain="example.com", prefix="busy", directory_id="dir-main"
    )
    vary_activity(state, ids, tokens_every=7)
    return state


@pytest.fixture
async def reader(tenant: AtlassianState) -> AsyncIterator[UsageReader]:
    adapter: AtlassianDirectory
    async with directory(httpx.ASGITransport(create_app(tenant))) as adapter:
        yield UsageReader(adapter.org)


async def test_usages_match_the_tenant_records(reader: UsageReader, tenant: AtlassianState) -> None:
    usages = {u.account_id: u for u in await reader.usages()}
    managed = [a for a in tenant.accounts.values() if tenant.claim_status(a) == "managed"]
    assert set(usages) == {a.account_id for a in managed}
    for account in managed:
        read = usages[account.account_id]
        assert read.billable == (account.access_billable and account.account_status == "active")
        assert [p.key for p in read.products] == [p.key for p in account.product_access]
        expected = [p.last_active for p in account.product_access]
        got = [p.last_active for p in read.products]
        # Nine fractional digits on the wire: equal to the microsecond.
        assert got == expected
    never = sum(1 for a in managed if all(p.last_active is None for p in a.product_access))
    assert sum(1 for u in usages.values() if u.latest_use is None) == never > 0


async def test_last_active_dates_of_one_account(reader: UsageReader) -> None:
    used = await reader.last_active(OWNER, email="owner@example.com")
    assert [(p.key, p.last_active and p.last_active.date().isoformat()) for p in used.products] == [
        ("confluence", "2026-03-02")
    ]
    assert used.added_to_org is not None
    never = await reader.last_active(UNMANAGED)
    assert never.products == ()


async def test_last_active_dates_are_read_across_pages(
    reader: UsageReader, tenant: AtlassianState
) -> None:
    """``links.next`` of ``UserProductAccessActivityPage`` is a cursor to follow (spec)."""
    tenant.orgs[ORG].settings.v1_page_size = 1
    vary_activity(tenant, [ADMIN, OWNER])
    expected = [p.key for p in tenant.account(ADMIN).product_access if p.last_active]
    used = await reader.last_active(ADMIN)
    assert len(expected) > 1
    assert [p.key for p in used.products] == expected


async def test_a_repeated_last_active_cursor_ends_the_read() -> None:
    """A tenant answering the same ``links.next`` again would be followed forever (here
    for 20 pages, so that a walk without a guard ends instead of hanging the test)."""
    requests: list[httpx.Request] = []

    def same_page(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        links = {"next": "c1"} if len(requests) < 20 else {}
        page = {"data": {"product_access": [], "added_to_org": None}, "links": links}
        return httpx.Response(200, json=page)

    async with directory(httpx.MockTransport(same_page)) as adapter:
        with pytest.raises(PermanentError, match="repeated a cursor"):
            await UsageReader(adapter.org).last_active(LEAVER)
    assert len(requests) == 2


async def test_tokens_are_listed_and_revoked_one_by_one(
    reader: UsageReader, tenant: AtlassianState
) -> None:
    tokens = await reader.api_tokens(LEAVER)
    assert [(t.token_id, t.label) for t in tokens] == [
        ("tok-leaver-1", "CI pipeline"),
        ("tok-leaver-2", "Reporting script"),
    ]
    first = await reader.revoke_token(LEAVER, "tok-leaver-1")
    again = await reader.revoke_token(LEAVER, "tok-leaver-1")
    assert (first.changed, again.changed) == (True, False)
    assert [t.token_id for t in await reader.api_tokens(LEAVER)] == ["tok-leaver-2"]


async def test_another_accounts_token_is_never_revoked(
    reader: UsageReader, tenant: AtlassianState
) -> None:
    result = await reader.revoke_token(LEAVER, "tok-admin-1")
    assert not result.changed
    assert [t.token_id for t in tokens_of(tenant, ADMIN)] == ["tok-admin-1"]
