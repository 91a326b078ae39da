"""The SCIM adapter and the composite directory against documented payloads."""

from __future__ import annotations

import json

import httpx
import pytest

from offboard.adapters.atlassian import AtlassianDirectory
from offboard.adapters.atlassian_scim import ScimAdapter
from offboard.adapters.http import BearerAuth, build_client
from offboard.core.accounts import AccountClass, AccountId
from offboard.core.identities import IdentityId
from offboard.core.plan import Action, Rule
from offboard.core.policy import ActionKind
from offboard.ports import AuthenticationError, NotFoundError, PermanentError, TemporaryError

from .conftest import BASE, DIR, ORG, Script, ok, sample

SCIM_DIR = "scim-dir-1"
USERS = f"/scim/directory/{SCIM_DIR}/Users"
SCIM_KEY = "scim-directory-key-secret"
S = sample("atlassian-scim-users.json")
SAM = S["list-page-1"]["Resources"][0]


@pytest.fixture
async def scim(script: Script) -> ScimAdapter:
    client = build_client(BASE, auth=BearerAuth(SCIM_KEY), transport=httpx.MockTransport(script))
    return ScimAdapter(client, SCIM_DIR)


def _one(user: dict[str, object]) -> dict[str, object]:
    return {**S["list-page-2"], "totalResults": 1, "startIndex": 1, "Resources": [user]}


async def test_lookup_by_user_name_and_external_id(script: Script, scim: ScimAdapter) -> None:
    script.on("GET", USERS, ok(_one(SAM)))
    [by_name] = await scim.find_by_user_name("synced@example.com")
    [by_external] = await scim.find_by_external_id('kc-"5f1e"')
    assert by_name.account_id == "5b10ac8d82e05b22cc7d4ef9"
    assert by_external.id == "scim-sam"
    filters = [r.url.params["filter"] for r in script.calls("GET", USERS)]
    assert filters == ['userName eq "synced@example.com"', 'externalId eq "kc-\\"5f1e\\""']
    assert script.requests[0].headers["authorization"] == f"Bearer {SCIM_KEY}"


async def test_links_page_by_start_index(script: Script, scim: ScimAdapter) -> None:
    script.on("GET", USERS, ok(S["list-page-1"]), ok(S["list-page-2"]))
    links = await scim.links()
    assert set(links) == {"5b10ac8d82e05b22cc7d4ef9", "acc-off"}
    assert links["acc-off"].active is False
    starts = [r.url.params["startIndex"] for r in script.calls("GET", USERS)]
    assert starts == ["1", "3"]


async def test_set_active_patches_with_atlassian_casing_and_is_idempotent(
    script: Script, scim: ScimAdapter
) -> None:
    path = f"{USERS}/scim-sam"
    script.on("GET", path, ok(SAM), ok({**SAM, "active": False}))
    script.on("PATCH", path, ok({**SAM, "active": False}))
    assert (await scim.set_active("scim-sam", False)).changed
    assert not (await scim.set_active("scim-sam", False)).changed
    [patch] = script.calls("PATCH", path)
    assert json.loads(patch.content)["Operations"] == [
        {"op": "replace", "path": "active", "value": False}
    ]
    assert patch.headers["content-type"] == "application/scim+json"


async def test_scim_error_bodies(script: Script, scim: ScimAdapter) -> None:
    script.on("GET", f"{USERS}/gone", ok(S["scim-error-404"], status=404))
    assert await scim.get_user("gone") is None
    with pytest.raises(NotFoundError):
        await scim.set_active("gone", False)
    script.on("GET", USERS, ok(S["scim-error-400"], status=400))
    with pytest.raises(PermanentError, match="invalidFilter"):
        await scim.find_by_user_name("x")
    script.on("GET", f"{USERS}/busy", ok(S["scim-error-503"], status=503))
    with pytest.raises(TemporaryError):
        await scim.get_user("busy")
    assert len(script.calls("GET", f"{USERS}/busy")) == 5


async def test_failure_bodies_on_401_and_403(script: Script, scim: ScimAdapter) -> None:
    script.on("GET", f"{USERS}/a", ok(S["failure-401"], status=401))
    with pytest.raises(AuthenticationError, match="directory key") as caught:
        await scim.get_user("a")
    assert SCIM_KEY not in str(caught.value)
    script.on("GET", f"{USERS}/b", ok(S["failure-403"], status=403))
    with pytest.raises(PermanentError, match="Forbidden"):
        await scim.get_user("b")
    assert len(script.calls("GET", f"{USERS}/b")) == 1


def _directory(script: Script, *, scim: bool = True) -> AtlassianDirectory:
    return AtlassianDirectory(
        org_id=ORG,
        org_key="org-key",
        base_url=BASE,
        directory_id=DIR,
        scim_directory_id=SCIM_DIR if scim else None,
        scim_key=SCIM_KEY if scim else None,
        rate_per_second=1000,
        burst=100,
        transport=httpx.MockTransport(script),
    )


def _synced_search_page() -> dict[str, object]:
    user = {
        "accountId": "5b10ac8d82e05b22cc7d4ef9", "accountStatus": "active",
        "membershipStatus": "active", "email": "synced@example.com", "claimStatus": "managed",
        "managementSource": "synced",
    }  # fmt: skip
    return {"data": [user], "links": {}}


async def test_composite_snapshot_links_scim_records(script: Script) -> None:
    script.on("GET", f"/admin/v1/orgs/{ORG}/domains", ok({"data": [], "links": {}}))
    script.on(
        "POST", f"/admin/v2/orgs/{ORG}/directories/{DIR}/users/search", ok(_synced_search_page())
    )
    script.on("GET", USERS, ok(S["list-page-1"]), ok(S["list-page-2"]))
    async with _directory(script) as directory:
        snap = await directory.snapshot()
    [account] = snap.accounts
    assert snap.complete
    assert account.account_class is AccountClass.SCIM_LINKED
    assert account.scim is not None
    assert account.scim.scim_user_id == "scim-sam"


async def test_composite_snapshot_is_incomplete_when_scim_fails(script: Script) -> None:
    script.on("GET", f"/admin/v1/orgs/{ORG}/domains", ok({"data": [], "links": {}}))
    script.on(
        "POST", f"/admin/v2/orgs/{ORG}/directories/{DIR}/users/search", ok(_synced_search_page())
    )
    script.on("GET", USERS, ok(S["scim-error-503"], status=503))
    async with _directory(script) as directory:
        snap = await directory.snapshot()
    assert not snap.complete
    assert "SCIM" in snap.problems[0]


async def test_composite_routes_scim_actions_to_the_linked_record(script: Script) -> None:
    details = f"/admin/v2/orgs/{ORG}/directories/{DIR}/users/5b10ac8d82e05b22cc7d4ef9"
    script.on("GET", details, ok({"data": _synced_search_page()["data"][0]}))
    script.on("GET", USERS, ok(_one(SAM)))
    script.on("GET", f"{USERS}/scim-sam", ok(SAM))
    script.on("PATCH", f"{USERS}/scim-sam", ok({**SAM, "active": False}))
    action = Action(
        ActionKind.SCIM_DEACTIVATE, IdentityId("kc"), AccountId("5b10ac8d82e05b22cc7d4ef9"),
        "synced@example.com", Rule.IDENTITY_DISABLED, "left",
    )  # fmt: skip
    async with _directory(script) as directory:
        assert (await directory.execute(action)).changed
    async with _directory(script, scim=False) as directory:
        with pytest.raises(PermanentError, match="SCIM directory key"):
            await directory.execute(action)
