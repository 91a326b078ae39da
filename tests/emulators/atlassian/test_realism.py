"""The behaviours of the real Atlassian API the emulator has ON by default (issue 12).

Each ``_is_on_by_default`` test fails if its switch is turned off, since the adapter tests
in ``tests/adapters/atlassian/test_real_tenant.py`` rely on the behaviour being there.
The sources are in the table of docs/emulators/atlassian.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from offboard_emulators.atlassian import AtlassianState, create_app, load_fixture, seed
from offboard_emulators.atlassian.fixture import generate_accounts
from offboard_emulators.atlassian.model import Directory
from offboard_emulators.atlassian.paging import decode_cursor, encode_cursor
from offboard_emulators.atlassian.realism import Realism

EXAMPLE = Path(__file__).parents[3] / "src/offboard_emulators/atlassian/example_fixture.json"
ORG = "9a1ja8a1-1a4b-1c23-d4e5-f6a7b8c9d0e1"
ADMIN = "5b10a2844c20165700ede21g"
LEAVER = "5b10ac8d82e05b22cc7d4ef5"
UNMANAGED = "5b10ac8d82e05b22cc7d4ef6"
KEY = {"Authorization": "Bearer emulator-org-key"}
JSON = {**KEY, "Content-Type": "application/json"}
USERS = f"/admin/v2/orgs/{ORG}/directories/dir-main/users"


@pytest.fixture
def state() -> AtlassianState:
    """The example tenant with every realism switch at its default."""
    tenant = AtlassianState()
    seed(tenant, load_fixture(EXAMPLE))
    return tenant


@pytest.fixture
async def client(state: AtlassianState) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(create_app(state))
    async with httpx.AsyncClient(transport=transport, base_url="https://api.atlassian.test") as c:
        yield c


def test_every_switch_is_on_by_default() -> None:
    realism = Realism()
    assert realism.require_json_content_type
    assert realism.base64_cursors
    assert realism.platform_roles_need_expand
    assert realism.read_lag_seconds > 0
    assert realism.v1_users_retired
    assert realism.every_directory_per_membership
    assert realism.membership_actions_need_a_directory
    assert realism.nulls_for_unset


@pytest.mark.parametrize(
    "path",
    [
        f"{USERS}/{UNMANAGED}/suspend",
        f"{USERS}/{UNMANAGED}/restore",
        f"/users/{LEAVER}/manage/lifecycle/disable",
        f"/users/{LEAVER}/manage/lifecycle/enable",
        f"/users/{LEAVER}/manage/lifecycle/delete",
    ],
)
async def test_a_bodyless_post_without_json_is_415_by_default(
    client: httpx.AsyncClient, path: str
) -> None:
    refused = await client.post(path, headers=KEY)
    assert refused.status_code == 415
    assert refused.json()["errors"][0]["code"] == "ADMIN-UAM-415-1"
    accepted = await client.post(path, headers=KEY, json={})
    assert accepted.status_code != 415


async def test_the_media_type_check_can_be_switched_off(
    state: AtlassianState, client: httpx.AsyncClient
) -> None:
    state.realism.require_json_content_type = False
    assert (await client.post(f"{USERS}/{UNMANAGED}/suspend", headers=KEY)).status_code == 204


async def test_cursors_are_standard_base64_starting_with_a_slash_by_default(
    state: AtlassianState, client: httpx.AsyncClient
) -> None:
    generate_accounts(state, ORG, 30, domain="example.com", directory_id="dir-main")
    page = (await client.post(f"{USERS}/search", headers=JSON, json={"limit": 10})).json()
    cursor = page["links"]["next"]
    assert cursor.startswith("/")
    assert "+" in cursor
    assert cursor.endswith("=")
    second = await client.post(f"{USERS}/search", headers=JSON, json={"cursor": cursor})
    assert second.status_code == 200
    assert second.json()["data"]
    listed = await client.get(USERS, headers=KEY, params={"cursor": cursor})
    assert listed.status_code == 200
    assert listed.json()["data"]


def test_both_cursor_forms_decode() -> None:
    for standard in (True, False):
        token = encode_cursor(7, "scope", {"a": ["b"]}, standard=standard)
        assert decode_cursor(token, "scope") == (7, {"a": ["b"]})


async def test_platform_roles_only_with_expand_by_default(client: httpx.AsyncClient) -> None:
    body = {"accountIds": [ADMIN]}
    bare = (await client.post(f"{USERS}/search", headers=JSON, json=body)).json()["data"][0]
    assert "platformRoles" not in bare
    wanted = {**body, "expand": ["platformRoles"]}
    full = (await client.post(f"{USERS}/search", headers=JSON, json=wanted)).json()["data"][0]
    assert full["platformRoles"] == ["atlassian/org-admin"]


async def test_reads_lag_behind_writes_by_default(
    state: AtlassianState, client: httpx.AsyncClient
) -> None:
    state.realism.read_lag_seconds = 0.3
    disabled = await client.post(f"/users/{LEAVER}/manage/lifecycle/disable", headers=JSON)
    assert disabled.status_code == 204
    assert state.account(LEAVER).account_status == "inactive"
    soon = (await client.get(f"{USERS}/{LEAVER}", headers=KEY)).json()["data"]
    assert soon["accountStatus"] == "active"
    suspended = await client.post(f"{USERS}/{UNMANAGED}/suspend", headers=JSON)
    assert suspended.status_code == 204
    member = (await client.get(f"{USERS}/{UNMANAGED}", headers=KEY)).json()["data"]
    assert member["membershipStatus"] == "active"
    await asyncio.sleep(0.35)
    later = (await client.get(f"{USERS}/{LEAVER}", headers=KEY)).json()["data"]
    assert later["accountStatus"] == "inactive"
    member = (await client.get(f"{USERS}/{UNMANAGED}", headers=KEY)).json()["data"]
    assert member["membershipStatus"] == "suspended"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", f"/admin/v1/orgs/{ORG}/users/search"),
        ("POST", f"/admin/v1/orgs/{ORG}/directory/users/{LEAVER}/suspend-access"),
        ("POST", f"/admin/v1/orgs/{ORG}/directory/users/{LEAVER}/restore-access"),
        ("DELETE", f"/admin/v1/orgs/{ORG}/directory/users/{LEAVER}"),
    ],
)
async def test_v1_user_calls_are_retired_by_default(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path, headers=JSON, json={})
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "ADMIN-404-1"


async def test_the_realism_switches_are_on_the_control_surface(
    client: httpx.AsyncClient,
) -> None:
    shown = (await client.get("/_emulator/realism")).json()
    assert shown["read_lag_seconds"] > 0
    changed = await client.put("/_emulator/realism", json={"read_lag_seconds": 0})
    assert changed.json()["read_lag_seconds"] == 0
    assert changed.json()["base64_cursors"] is True
    bad = await client.put("/_emulator/realism", json={"no_such_switch": True})
    assert bad.status_code == 400


async def test_management_source_holds_only_documented_values(client: httpx.AsyncClient) -> None:
    page = (await client.post(f"{USERS}/search", headers=JSON, json={"limit": 100})).json()
    assert {u["managementSource"] for u in page["data"]} <= {"invited", "synced", None}
    google = next(u for u in page["data"] if u["email"].startswith("gsync"))
    assert google["managementSource"] == "synced"


async def test_every_directory_lists_an_account_once_per_directory_by_default(
    state: AtlassianState, client: httpx.AsyncClient
) -> None:
    state.add_directory(ORG, Directory("dir-two", "Second"))
    state.orgs[ORG].directories["dir-two"].add(LEAVER, "suspended")
    every = f"/admin/v2/orgs/{ORG}/directories/-/users/search"
    body = {"accountIds": [LEAVER], "limit": 100}
    entries = (await client.post(every, headers=JSON, json=body)).json()["data"]
    assert sorted(e["membershipStatus"] for e in entries) == ["active", "suspended"]
    details = await client.get(f"/admin/v2/orgs/{ORG}/directories/-/users/{LEAVER}", headers=KEY)
    assert details.json()["data"]["membershipStatus"] == "active"


def test_each_switch_is_in_the_documented_table_with_its_kind() -> None:
    """docs/emulators/atlassian.md records, per behaviour, whether Atlassian documents it
    or it is inferred (field report, fail-safe choice): the first real tenant checks them."""
    document = (Path(__file__).parents[3] / "docs/emulators/atlassian.md").read_text("utf-8")
    rows = [line for line in document.splitlines() if line.startswith("| ")]
    for switch in Realism.__dataclass_fields__:
        [row] = [r for r in rows if f"`{switch}`" in r and "|" in r]
        assert any(kind in row for kind in ("documented", "field report", "fail-safe")), switch


async def test_unset_nullish_fields_are_null_by_default(client: httpx.AsyncClient) -> None:
    """jira.js types ``deactivatedOn``, ``department``, ``organization``, ``location`` and
    ``timeZone`` of ``MultiDirectoryUser`` as nullish: unset, they come as ``null``."""
    found = await client.post(
        f"/admin/v2/orgs/{ORG}/directories/-/users/search", headers=JSON, json={"limit": 1}
    )
    user = found.json()["data"][0]
    assert {k: user[k] for k in ("deactivatedOn", "organization", "timeZone")} == dict.fromkeys(
        ("deactivatedOn", "organization", "timeZone")
    )
