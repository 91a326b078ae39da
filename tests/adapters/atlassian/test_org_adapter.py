"""The org adapter against documented payloads (httpx.MockTransport, no network)."""

from __future__ import annotations

import json

import httpx
import pytest

from offboard.adapters.atlassian_org import OrgAdapter, self_check
from offboard.core.accounts import AccountClass, AccountId, AccountStatus, Claim, Membership
from offboard.core.identities import IdentityId
from offboard.core.plan import Action, Rule
from offboard.core.policy import ActionKind
from offboard.ports import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    NotManageableError,
    PermanentError,
    TemporaryError,
)

from .conftest import DIR, ORG, ORG_KEY, Script, ok, sample

SEARCH = f"/admin/v2/orgs/{ORG}/directories/{DIR}/users/search"
DOMAINS = f"/admin/v1/orgs/{ORG}/domains"
LEAVER = "5b10ac8d82e05b22cc7d4ef5"
DETAILS = f"/admin/v2/orgs/{ORG}/directories/{DIR}/users/{LEAVER}"
MANAGE = f"/users/{LEAVER}/manage"
DISABLE = f"/users/{LEAVER}/manage/lifecycle/disable"
ORG_ERRORS = sample("atlassian-org-errors.json")
UM_ERRORS = sample("atlassian-um-errors.json")
PERMS = sample("atlassian-um-permissions.json")


def _action(kind: ActionKind, account: str = LEAVER) -> Action:
    return Action(
        kind, IdentityId("kc-1"), AccountId(account), "leaver@example.com",
        Rule.IDENTITY_DISABLED, "Disabled in Keycloak on 2026-11-28 (identity-disabled)",
    )  # fmt: skip


def _details(**changes: object) -> dict[str, object]:
    body = sample("atlassian-org-v2-user-details.json")
    body["data"].update(changes)
    return body


def _domains(script: Script) -> None:
    script.on(
        "GET",
        DOMAINS,
        ok(sample("atlassian-org-v1-domains-page-1.json")),
        ok(sample("atlassian-org-v1-domains-page-2.json")),
    )


async def test_snapshot_walks_cursor_tokens_and_url_links(script: Script, org: OrgAdapter) -> None:
    _domains(script)
    script.on(
        "POST",
        SEARCH,
        ok(sample("atlassian-org-v2-users-search-page-1.json")),
        ok(sample("atlassian-org-v2-users-search-page-2.json")),
    )
    seen: list[int] = []
    snap = await org.snapshot(progress=lambda done, _total: seen.append(done))
    assert snap.complete
    assert not snap.problems
    assert [a.id for a in snap.accounts][-1] == "5b10ac8d82e05b22cc7d4ef6"
    assert snap.verified_domains == frozenset({"example.com", "corp.example.net"})
    assert snap.key_owner_account_id == "owner-1"
    assert seen == [2, 3]
    # v1 domains: the cursor came out of the links.next URL; v2: the token is sent as is.
    assert script.calls("GET", DOMAINS)[1].url.params["cursor"] == "page-2-token"
    bodies = [json.loads(r.content) for r in script.calls("POST", SEARCH)]
    # The configured directory also as the documented filter: the path alone may not narrow.
    assert bodies[0] == {"limit": 100, "expand": ["platformRoles"], "directoryIds": [DIR]}
    assert bodies[1]["cursor"] == "cGFnZS0y"
    admin, leaver, guest = snap.accounts
    assert admin.is_org_admin
    assert admin.claim is Claim.MANAGED
    assert leaver.membership is Membership.SUSPENDED
    assert not leaver.has_access
    assert guest.status is AccountStatus.INACTIVE
    assert guest.account_class is AccountClass.UNMANAGED


async def test_a_failed_page_makes_the_snapshot_incomplete(script: Script, org: OrgAdapter) -> None:
    _domains(script)
    failing = ok(ORG_ERRORS["application-500-1"], status=500)
    script.on("POST", SEARCH, ok(sample("atlassian-org-v2-users-search-page-1.json")), failing)
    snap = await org.snapshot()
    assert not snap.complete
    assert len(snap.accounts) == 2
    assert "ADMIN-500-1" in snap.problems[0]
    assert len(script.calls("POST", SEARCH)) == 1 + 5  # the failing page was retried


async def test_503_bursts_are_retried(script: Script, org: OrgAdapter) -> None:
    busy = ok(ORG_ERRORS["application-500-1"], status=503, headers={"Retry-After": "1"})
    script.on("GET", DETAILS, busy, busy, ok(_details()))
    account = await org.read_account(AccountId(LEAVER))
    assert account is not None
    assert account.status is AccountStatus.ACTIVE
    assert len(script.calls("GET", DETAILS)) == 3


@pytest.mark.parametrize("body", ["proxy-429", "application-429-1"])
async def test_429_is_retried_with_either_body(script: Script, org: OrgAdapter, body: str) -> None:
    limited = ok(ORG_ERRORS[body], status=429, headers={"X-RateLimit-Reset": "2026-06-05T06:00Z"})
    script.on("GET", DETAILS, limited, ok(_details()))
    assert await org.read_account(AccountId(LEAVER)) is not None


async def test_deactivate_is_one_request_carrying_the_reason(
    script: Script, org: OrgAdapter
) -> None:
    script.on("POST", DISABLE, httpx.Response(204))
    result = await org.execute(_action(ActionKind.DEACTIVATE))
    assert (result.changed, result.http_status) == (True, 204)
    assert [(r.method, r.url.path) for r in script.requests] == [("POST", DISABLE)]
    assert json.loads(script.calls("POST", DISABLE)[0].content)["message"].startswith("Disabled")
    assert script.requests[0].headers["authorization"] == f"Bearer {ORG_KEY}"


async def test_a_409_for_an_inactive_account_changes_nothing(
    script: Script, org: OrgAdapter
) -> None:
    script.on("POST", DISABLE, ok(UM_ERRORS["conflict.lifecycleErrors"], status=409))
    script.on("GET", DETAILS, ok(_details(accountStatus="inactive", status="deactivated")))
    result = await org.execute(_action(ActionKind.DEACTIVATE))
    assert (result.changed, result.http_status) == (False, 409)
    assert len(script.calls("POST", DISABLE)) == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("forbidden.action.google", "externalDirectory.google"),
        ("forbidden.action.notMyself", "administrative.notMyself"),
        ("forbidden.targetUnverified", "forbidden.targetUnverified"),
        ("forbidden", "forbidden"),
    ],
)
async def test_403_bodies_of_user_management_say_why_and_are_not_retried(
    script: Script, org: OrgAdapter, body: str, reason: str
) -> None:
    script.on("POST", DISABLE, ok(UM_ERRORS[body], status=403))
    with pytest.raises(NotManageableError) as caught:
        await org.execute(_action(ActionKind.DEACTIVATE))
    assert caught.value.reason_key == reason
    assert len(script.requests) == 1


async def test_409_lifecycle_conflict_on_an_active_account(script: Script, org: OrgAdapter) -> None:
    script.on("POST", DISABLE, ok(UM_ERRORS["conflict.lifecycleErrors"], status=409))
    script.on("GET", DETAILS, ok(_details()))
    with pytest.raises(ConflictError, match=r"conflict\.lifecycleErrors"):
        await org.execute(_action(ActionKind.DEACTIVATE))


async def test_permission_reads_one_privilege_of_the_map(script: Script, org: OrgAdapter) -> None:
    script.on("GET", MANAGE, ok(PERMS["google"]))
    permission = await org.permission(LEAVER, "lifecycle.enablement")
    assert not permission.allowed
    assert permission.reason is not None
    assert permission.reason.key == "externalDirectory.google"
    assert script.calls("GET", MANAGE)[0].url.params["privileges"] == "lifecycle.enablement"


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", DETAILS, "proxy-401"), ("POST", DISABLE, "unauthorized"),
])  # fmt: skip
async def test_401_says_the_key_is_wrong_without_showing_it(
    script: Script, org: OrgAdapter, method: str, path: str, body: str
) -> None:
    script.on(method, path, ok(ORG_ERRORS.get(body) or UM_ERRORS[body], status=401))
    call = (
        org.read_account(AccountId(LEAVER))
        if method == "GET"
        else org.execute(_action(ActionKind.DEACTIVATE))
    )
    with pytest.raises(AuthenticationError) as caught:
        await call
    assert "API key expired or wrong" in str(caught.value)
    assert ORG_KEY not in str(caught.value)
    assert len(script.calls(method, path)) == 1


async def test_no_perms_403_on_org_endpoints_is_permanent(script: Script, org: OrgAdapter) -> None:
    script.on("GET", DETAILS, ok(ORG_ERRORS["no-perms-403"], status=403))
    with pytest.raises(PermanentError, match="no permission") as caught:
        await org.read_account(AccountId(LEAVER))
    assert not isinstance(caught.value, NotManageableError)
    assert len(script.calls("GET", DETAILS)) == 1


async def test_admin_403_3_is_permanent(script: Script, org: OrgAdapter) -> None:
    script.on("POST", SEARCH, ok(ORG_ERRORS["application-403-3"], status=403))
    with pytest.raises(PermanentError, match="ADMIN-403-3"):
        await org.find_by_email("leaver@example.com")


async def test_404_read_is_none_and_suspend_of_a_stranger_is_not_found(
    script: Script, org: OrgAdapter
) -> None:
    script.on("GET", DETAILS, ok(ORG_ERRORS["application-404-8"], status=404))
    assert await org.read_account(AccountId(LEAVER)) is None
    with pytest.raises(NotFoundError):
        await org.execute(_action(ActionKind.SUSPEND))


async def test_suspend_and_restore_are_idempotent(script: Script, org: OrgAdapter) -> None:
    suspend = f"{DETAILS}/suspend"
    script.on("GET", DETAILS, ok(_details()), ok(_details(membershipStatus="suspended")))
    script.on("POST", suspend, ok({"message": "suspended"}))
    assert (await org.execute(_action(ActionKind.SUSPEND))).changed
    assert not (await org.execute(_action(ActionKind.SUSPEND))).changed
    assert len(script.calls("POST", suspend)) == 1
    script.on("POST", f"{DETAILS}/restore", ok({"message": "restored"}))
    assert (await org.execute(_action(ActionKind.RESTORE))).changed


async def test_find_by_email_sends_the_address_as_typed_and_in_lower_case(
    script: Script, org: OrgAdapter
) -> None:
    script.on("POST", SEARCH, ok(sample("atlassian-org-v2-users-search-page-2.json")))
    found = await org.find_by_email("Guest@Example.org")
    assert [a.id for a in found] == ["5b10ac8d82e05b22cc7d4ef6"]
    asked = json.loads(script.calls("POST", SEARCH)[0].content)["emails"]
    assert asked == ["Guest@Example.org", "guest@example.org"]
    await org.find_by_email("guest@example.org")
    assert json.loads(script.calls("POST", SEARCH)[1].content)["emails"] == ["guest@example.org"]


async def test_a_temporary_error_that_persists_is_raised(script: Script, org: OrgAdapter) -> None:
    script.on("GET", DETAILS, httpx.Response(502, text="bad gateway"))
    with pytest.raises(TemporaryError):
        await org.read_account(AccountId(LEAVER))


async def test_self_check_reports_each_part(script: Script, org: OrgAdapter) -> None:
    script.on("GET", "/admin/v1/orgs", ok(sample("atlassian-org-v1-orgs-page.json")))
    _domains(script)
    script.on(
        "GET",
        f"/admin/v2/orgs/{ORG}/directories",
        ok(sample("atlassian-org-v2-directories-page.json")),
    )
    script.on("GET", "/users/owner-1/manage", ok(UM_ERRORS["forbidden"], status=403))
    results = {r.name: r for r in await self_check(org)}
    assert all(results[n].ok for n in ("atlassian.key", "atlassian.org", "atlassian.domains"))
    assert results["atlassian.directory"].ok
    assert not results["atlassian.key_type"].ok
    assert "without scopes" in results["atlassian.key_type"].fix


async def test_self_check_with_an_expired_key(script: Script, org: OrgAdapter) -> None:
    script.on("GET", "/admin/v1/orgs", ok(ORG_ERRORS["proxy-401"], status=401))
    [result] = await self_check(org)
    assert not result.ok
    assert "expired or wrong" in result.detail


async def test_a_malformed_page_or_a_repeated_cursor_is_a_failed_page(
    script: Script, org: OrgAdapter
) -> None:
    _domains(script)
    page = sample("atlassian-org-v2-users-search-page-1.json")
    script.on("POST", SEARCH, ok(page), ok(page))
    snap = await org.snapshot()
    assert not snap.complete
    assert "repeated a cursor" in snap.problems[0]
    script.replies.clear()
    _domains(script)
    script.on("POST", SEARCH, httpx.Response(200, text="<html>gateway</html>"))
    snap = await org.snapshot()
    assert not snap.complete
    assert snap.accounts == ()


def _same_next(requests: list[httpx.Request]) -> httpx.MockTransport:
    """A tenant fault: every page points at the same next page (for 20 pages, so a walk
    without a guard ends instead of hanging the test)."""

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        more = len(requests) < 20
        if request.url.path == "/admin/v1/orgs":
            other = sample("atlassian-org-v1-orgs-page.json")["data"][0] | {"id": "org-other"}
            links = {"next": "https://api.atlassian.com/admin/v1/orgs?cursor=c1"} if more else {}
            return httpx.Response(200, json={"data": [other], "links": links})
        if request.url.path.endswith("/domains"):
            domain = sample("atlassian-org-v1-domains-page-1.json")["data"][0]
            next_url = f"https://api.atlassian.com{DOMAINS}?cursor=c1"
            links = {"next": next_url} if more else {}
            return httpx.Response(200, json={"data": [domain], "links": links})
        directory = {"directoryId": DIR, "name": "Main"}
        links = {"next": "c1"} if more else {}
        return httpx.Response(200, json={"data": [directory], "links": links})

    return httpx.MockTransport(answer)


async def test_domain_and_directory_walks_end_on_a_repeated_cursor() -> None:
    """``links.next`` promises more; one asked before would be followed forever. The walks
    that decide who is managed and which directories hold a leaver end with an error."""
    for walk in (OrgAdapter.verified_domains, lambda org: org.directories(LEAVER)):
        requests: list[httpx.Request] = []
        base = "https://api.atlassian.com"
        async with httpx.AsyncClient(transport=_same_next(requests), base_url=base) as client:
            with pytest.raises(PermanentError, match="repeated a cursor"):
                await walk(OrgAdapter(client, ORG, DIR))
        assert len(requests) == 2


async def test_the_key_check_ends_on_a_repeated_org_cursor() -> None:
    """The config check walks the key's orgs until it finds the configured one; a tenant
    repeating the next page would keep it walking: it fails the check instead."""
    requests: list[httpx.Request] = []
    base = "https://api.atlassian.com"
    async with httpx.AsyncClient(transport=_same_next(requests), base_url=base) as client:
        [key] = await self_check(OrgAdapter(client, ORG, DIR))
    assert not key.ok
    assert "repeated a cursor" in key.detail
    assert len(requests) == 2
