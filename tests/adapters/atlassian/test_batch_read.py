"""Batch read-backs (v2 search by account ids) against the Atlassian emulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from offboard.adapters.atlassian import AtlassianDirectory
from offboard.core.accounts import AccountId, AccountStatus, Membership
from offboard.executor.batch_reads import BatchReader
from offboard_emulators.atlassian import AtlassianState, create_app, seed
from offboard_emulators.atlassian.app import EmulatorParts
from offboard_emulators.atlassian.fixture import generate_accounts
from offboard_emulators.atlassian.model import Directory

ORG = "org-batch"
KEY = "batch-org-key"


@pytest.fixture
def state() -> AtlassianState:
    state = AtlassianState()
    org = {
        "id": ORG, "name": "Batch", "directories": [{"id": "dir-main", "name": "Main"}],
        "domains": [{"id": "d", "name": "example.test", "claim_status": "verified",
                     "claim_type": "dns"}],
        "api_keys": [{"id": "k", "secret": KEY, "owner_account_id": "owner-1"}],
        "accounts": [],
    }  # fmt: skip
    seed(state, {"orgs": [org]})
    return state


@pytest.fixture
def ids(state: AtlassianState) -> list[str]:
    return list(generate_accounts(state, ORG, 30, domain="example.test", directory_id="dir-main"))


@pytest.fixture
async def atlassian(state: AtlassianState) -> AsyncIterator[AtlassianDirectory]:
    app = create_app(parts=EmulatorParts(state))
    async with AtlassianDirectory(
        org_id=ORG, org_key=KEY, base_url="https://api.atlassian.test", directory_id="dir-main",
        rate_per_second=500, burst=50, transport=httpx.ASGITransport(app),
    ) as adapter:  # fmt: skip
        yield adapter


async def test_one_search_answers_ten_accounts(
    atlassian: AtlassianDirectory, ids: list[str]
) -> None:
    batch = [AccountId(i) for i in ids[:10]]
    found = await atlassian.read_accounts(batch)
    assert sorted(found) == sorted(ids[:10])
    for account_id in batch:
        single = await atlassian.read_account(account_id)
        assert single is not None
        assert (found[account_id].status, found[account_id].membership) == (
            single.status, single.membership,
        )  # fmt: skip


async def test_a_partial_answer_leaves_the_unknown_out(
    atlassian: AtlassianDirectory, ids: list[str]
) -> None:
    found = await atlassian.read_accounts([AccountId(ids[0]), AccountId("no-such-account")])
    assert list(found) == [ids[0]]
    reader = BatchReader.for_directory(atlassian, settle=0.01, patience=0.02)
    both = await asyncio.gather(reader.read(AccountId(ids[1])), reader.read(AccountId("gone")))
    assert both[0] is not None
    assert both[1] is None


async def test_every_page_of_the_answer_is_read(
    atlassian: AtlassianDirectory, ids: list[str]
) -> None:
    found = await atlassian.org.read_accounts([AccountId(i) for i in ids[:10]], limit=3)
    assert sorted(found) == sorted(ids[:10])


async def test_more_than_ten_ids_are_refused_by_the_adapter_and_the_emulator(
    atlassian: AtlassianDirectory, ids: list[str]
) -> None:
    with pytest.raises(ValueError, match="1 to 10"):
        await atlassian.read_accounts([AccountId(i) for i in ids[:11]])
    answer = await atlassian.org.client.post(
        f"/admin/v2/orgs/{ORG}/directories/dir-main/users/search", json={"accountIds": ids[:11]}
    )
    assert answer.status_code == 400


async def test_the_batch_sees_the_read_after_write_lag(
    state: AtlassianState, atlassian: AtlassianDirectory, ids: list[str]
) -> None:
    state.realism.read_lag_seconds = 0.3
    await atlassian.org.client.post(f"/users/{ids[0]}/manage/lifecycle/disable", json={})
    soon = await atlassian.read_accounts([AccountId(ids[0])])
    assert soon[ids[0]].status is AccountStatus.ACTIVE  # the old state, as Atlassian shows it
    await asyncio.sleep(0.35)
    later = await atlassian.read_accounts([AccountId(ids[0])])
    assert later[ids[0]].status is AccountStatus.INACTIVE


async def test_every_directory_merges_an_account_held_twice(
    state: AtlassianState, atlassian: AtlassianDirectory, ids: list[str]
) -> None:
    state.add_directory(ORG, Directory("dir-two", "Second"))
    state.orgs[ORG].directories["dir-two"].add(ids[2], "suspended")
    atlassian.org._directory_id = "-"
    found = await atlassian.read_accounts([AccountId(ids[2]), AccountId(ids[3])])
    assert found[ids[2]].membership is Membership.ACTIVE  # active in any directory
    assert sorted(found) == sorted(ids[2:4])
