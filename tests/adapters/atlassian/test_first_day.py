"""Answers a real tenant may give that the emulator, left alone, never does.

Each test takes the emulator's answer and changes it the way the vendor documents allow (a
field the spec does not require left out, a timestamp without an offset, a filter the
tenant does not apply), or scripts a server whose paging misbehaves, and shows the adapter
neither guesses nor loops: it reads what it can and refuses the rest with a clear error.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC
from typing import Any

import httpx
import pytest

from offboard.adapters.atlassian_org import OrgAdapter
from offboard.adapters.atlassian_org.usage import UsageReader
from offboard.adapters.atlassian_scim import ScimAdapter
from offboard.adapters.http import BearerAuth, build_client
from offboard.core.accounts import AccountId
from offboard.core.identities import IdentityId
from offboard.core.plan import Action, Rule
from offboard.core.policy import ActionKind
from offboard.ports import ConflictError, PermanentError
from offboard_emulators.atlassian import create_app
from offboard_emulators.atlassian.app import EmulatorParts
from offboard_emulators.atlassian.fixture import generate_accounts
from offboard_emulators.atlassian.model import Directory
from tests.adapters.atlassian.conftest import BASE, Script, ok, sample
from tests.adapters.atlassian.test_against_emulator import (
    LEAVER,
    ORG,
    SEARCH,
    directory,
    parts,
)

__all__ = ["parts"]  # the fixture, used by name
Edit = Callable[[httpx.Request, Any], Any]


def tampering(
    parts: EmulatorParts,
    *,
    request_body: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    answer: Edit | None = None,
) -> httpx.MockTransport:
    """The emulator, with each JSON request body and each successful JSON answer edited."""
    inner = httpx.ASGITransport(create_app(parts=parts))

    async def handle(request: httpx.Request) -> httpx.Response:
        if request_body is not None and request.content:
            body = request_body(json.loads(request.content))
            request = httpx.Request(
                request.method, request.url, json=body, headers={
                    k: v for k, v in request.headers.items() if k.lower() != "content-length"
                }
            )  # fmt: skip
        response = await inner.handle_async_request(request)
        content = await response.aread()
        if answer is None or not response.is_success or not content:
            return httpx.Response(response.status_code, headers=response.headers, content=content)
        edited = answer(request, json.loads(content))
        return httpx.Response(response.status_code, json=edited)

    return httpx.MockTransport(handle)


# --- the v2 emails filter -------------------------------------------------------------


def without_emails(body: dict[str, Any]) -> dict[str, Any]:
    """What a tenant whose API predates the ``emails`` filter acts on: the rest of the body."""
    return {k: v for k, v in body.items() if k != "emails"}


async def test_an_email_search_that_answers_other_people_is_refused(
    parts: EmulatorParts,
) -> None:
    """The 2025 Organizations spec has no ``emails`` filter (reference §8); where a tenant
    does not apply it, the search answers the whole directory. Taking that answer as "the
    accounts holding this address" would hand a leaver's actions to other people."""
    generate_accounts(parts.state, ORG, 30, domain="example.com", directory_id="dir-main")
    async with directory(tampering(parts, request_body=without_emails)) as adapter:
        with pytest.raises(PermanentError, match="none of the addresses asked"):
            await adapter.find_by_email("leaver@example.com")
        with pytest.raises(PermanentError, match="none of the addresses asked"):
            await adapter.find_by_emails(["leaver@example.com", "owner@example.com"])


async def test_an_email_search_applied_as_documented_still_finds_each_spelling(
    parts: EmulatorParts,
) -> None:
    async with directory(httpx.ASGITransport(create_app(parts=parts))) as adapter:
        found = await adapter.find_by_emails(["Leaver@Example.com"])
    assert [account.id for account in found] == [LEAVER]
    assert [e.path for e in parts.log.entries() if e.method == "POST"] == [SEARCH]


# --- required fields and clear errors -------------------------------------------------


def drop(field: str) -> Edit:
    def edit(request: httpx.Request, body: Any) -> Any:
        data = body.get("data")
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, dict):
                item.pop(field, None)
        return body

    return edit


async def test_an_account_read_without_its_id_says_which_field_is_missing(
    parts: EmulatorParts,
) -> None:
    """``MultiDirectoryUser`` marks every field optional, ``accountId`` too; offboard cannot
    act on an account without it, and says so instead of leaking a parser's dump."""
    async with directory(tampering(parts, answer=drop("accountId"))) as adapter:
        with pytest.raises(PermanentError, match=r"read account .*data\.accountId: missing"):
            await adapter.read_account(AccountId(LEAVER))
        with pytest.raises(PermanentError, match=r"data\[0\]\.accountId: missing"):
            await adapter.read_accounts([AccountId(LEAVER)])


async def test_a_managed_account_listed_without_its_status_is_not_taken_as_billable(
    parts: EmulatorParts,
) -> None:
    """``User`` of ``GET /admin/v1/orgs/{orgId}/users`` requires ``account_status``
    (Organizations spec): one left out was read as ``active``, a billable seat."""
    async with directory(tampering(parts, answer=drop("account_status"))) as adapter:
        with pytest.raises(PermanentError, match=r"data\[0\]\.account_status: missing"):
            await UsageReader(adapter.org).usages()


# --- timestamps -----------------------------------------------------------------------


def naive_added_to_org(request: httpx.Request, body: Any) -> Any:
    if isinstance(body.get("data"), dict):  # the account's details, not the directories
        body["data"]["addedToOrg"] = "2024-03-01T09:30:00"
    return body


async def test_a_timestamp_without_an_offset_is_read_as_utc(parts: EmulatorParts) -> None:
    """ISO-8601 allows a local time without offset; compared with offboard's aware clock it
    raised a TypeError deep in the licence report. Atlassian's clocks are UTC."""
    async with directory(tampering(parts, answer=naive_added_to_org)) as adapter:
        account = await adapter.read_account(AccountId(LEAVER))
    assert account is not None
    assert account.added_to_org is not None
    assert account.added_to_org.tzinfo is not None
    assert account.added_to_org.utcoffset() == UTC.utcoffset(None)
    assert account.added_to_org.hour == 9


# --- paging ---------------------------------------------------------------------------


def _v1_user(account_id: str) -> dict[str, Any]:
    return {
        "account_id": account_id, "account_type": "atlassian", "account_status": "active",
        "name": account_id, "picture": "https://avatar.test/x.png", "access_billable": True,
    }  # fmt: skip


async def test_an_empty_listing_page_with_a_next_link_is_followed(
    script: Script, org: OrgAdapter
) -> None:
    """A ``links.next`` is a promise of more (``UserPage``): the walk of the v2 search
    already follows an empty page that carries one; the managed-accounts listing stopped,
    and every account after it was missing from the licence report."""
    users = "/admin/v1/orgs/org-1/users"
    page = f"{BASE}{users}?cursor="
    script.on(
        "GET", users,
        ok({"data": [_v1_user("a-1")], "meta": {"total": 2}, "links": {"next": f"{page}c2"}}),
        ok({"data": [], "meta": {"total": 2}, "links": {"next": f"{page}c3"}}),
        ok({"data": [_v1_user("a-2")], "meta": {"total": 2}, "links": {}}),
    )  # fmt: skip
    usages = await UsageReader(org).usages()
    assert [usage.account_id for usage in usages] == ["a-1", "a-2"]
    assert [r.url.params.get("cursor") for r in script.calls("GET", users)] == [None, "c2", "c3"]


async def test_a_scim_listing_that_ignores_start_index_is_refused_not_walked_forever() -> None:
    """RFC 7644 §3.4.2.4 and Atlassian's SCIM spec: ``startIndex`` is the 1-based index of
    the first result of the page. A server (or a proxy with a cache) answering page one to
    every request made the walk ask for index 101 for ever."""
    asked: list[str] = []

    def first_page_always(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.params["startIndex"])
        assert len(asked) <= 5, "the SCIM walk did not stop"
        resources = [{"id": f"u{n}", "userName": f"u{n}@example.com"} for n in range(100)]
        body = {"totalResults": 250, "startIndex": 1, "itemsPerPage": 100, "Resources": resources}
        return httpx.Response(200, json=body)

    transport = httpx.MockTransport(first_page_always)
    async with build_client(BASE, auth=BearerAuth("k"), transport=transport) as client:
        with pytest.raises(PermanentError, match="startIndex"):
            await ScimAdapter(client, "scim-dir-1").users()
    assert asked == ["1", "101"]


# --- refusals in words ----------------------------------------------------------------


async def test_a_lifecycle_conflict_says_why_the_account_is_not_eligible(
    script: Script, org: OrgAdapter
) -> None:
    """``Conflict.LifecycleError`` (user management spec): ``context.errorCodes`` say why the
    account cannot be deactivated (it owns a site, an entitlement) and where to read more;
    the error said it as a JSON document cut at 500 characters."""
    leaver = "5b10ac8d82e05b22cc7d4ef5"
    conflict = sample("atlassian-um-errors.json")["conflict.lifecycleErrors"]
    script.on("POST", f"/users/{leaver}/manage/lifecycle/disable", ok(conflict, status=409))
    details = sample("atlassian-org-v2-user-details.json")
    script.on("GET", f"/admin/v2/orgs/org-1/directories/dir-1/users/{leaver}", ok(details))
    action = Action(
        ActionKind.DEACTIVATE, IdentityId("kc-1"), AccountId(leaver), None,
        Rule.IDENTITY_DISABLED, "Disabled in Keycloak",
    )  # fmt: skip
    with pytest.raises(ConflictError) as caught:
        await org.execute(action)
    words = str(caught.value)
    assert (
        "SITE_OWNER: The user owns a site (see https://confluence.atlassian.com/x/pTgoPQ)" in words
    )
    assert "conflict.lifecycleErrors" in words
    assert '{"' not in words


async def test_an_org_api_refusal_names_its_code(script: Script, org: OrgAdapter) -> None:
    refusal = sample("atlassian-org-errors.json")["application-400-1"]
    script.on("GET", "/admin/v1/orgs/org-1/domains", ok(refusal, status=400))
    with pytest.raises(PermanentError) as caught:
        await org.verified_domains()
    assert "ADMIN-400-1" in str(caught.value)
    assert '{"' not in str(caught.value)


# --- null where a field is left out ---------------------------------------------------


def nulls_for_absent(request: httpx.Request, body: Any) -> Any:
    """Every optional field the search leaves out sent as ``null`` instead, ``links`` too."""
    if request.url.path != SEARCH:
        return body
    for user in body["data"]:
        for field in ("deactivatedOn", "forDeletion", "addedToOrg", "nickname", "emailVerified"):
            user.setdefault(field, None)
        user["managementSource"] = None
    if "next" not in body["links"]:
        body["links"] = None
    return body


async def test_null_fields_and_null_links_read_as_absent(parts: EmulatorParts) -> None:
    """jira.js types ``deactivatedOn``, ``managementSource`` and the profile fields as nullish:
    Atlassian sends ``null`` for them. A ``null`` where an object belongs (``links`` on the
    last page) failed the whole walk, and with it the pass."""
    generate_accounts(parts.state, ORG, 150, domain="example.com", directory_id="dir-main")
    async with directory(tampering(parts, answer=nulls_for_absent)) as adapter:
        snapshot = await adapter.snapshot()
    assert snapshot.complete, snapshot.problems
    assert len(snapshot.accounts) == len(
        parts.state.directory(parts.state.org(ORG), "dir-main").order
    )


# --- writes name their directory --------------------------------------------------------


async def test_in_several_directories_each_membership_is_suspended_by_its_directory_id(
    parts: EmulatorParts,
) -> None:
    """Only the reads document ``-`` (every directory); ``suspendDirectoryUser`` and
    ``restoreDirectoryUser`` take a directory id from the directory listing (jira.js). An org
    with several identity providers (offboard reads it through ``-``) had every suspension
    sent to ``-``: refused on a real tenant, the leaver kept access everywhere."""
    state = parts.state
    state.add_directory(ORG, Directory("dir-two", "Second identity provider"))
    state.orgs[ORG].directories["dir-two"].add(LEAVER, "active")
    memberships = state.orgs[ORG].directories
    suspend = Action(
        ActionKind.SUSPEND, IdentityId("kc-1"), AccountId(LEAVER), None,
        Rule.IDENTITY_DISABLED, "Disabled in Keycloak",
    )  # fmt: skip
    restore = dataclasses.replace(suspend, kind=ActionKind.RESTORE)
    async with directory(httpx.ASGITransport(create_app(parts=parts))) as adapter:
        assert await adapter.org.directory_id() == "-"
        first = await adapter.execute(suspend)
        again = await adapter.execute(suspend)
        assert [memberships[d].memberships[LEAVER] for d in ("dir-main", "dir-two")] == [
            "suspended", "suspended",
        ]  # fmt: skip
        memberships["dir-two"].memberships[LEAVER] = "active"  # an admin restored one
        state.changed()
        back = await adapter.execute(restore)
    assert (first.changed, first.detail) == (True, "suspend in dir-main, dir-two")
    assert (again.changed, again.detail) == (False, "already in state")
    assert (back.changed, back.detail) == (False, "already in state")  # active in one: access
    writes = [e.path for e in parts.log.entries() if e.method == "POST" and "/search" not in e.path]
    assert writes == [
        f"/admin/v2/orgs/{ORG}/directories/dir-main/users/{LEAVER}/suspend",
        f"/admin/v2/orgs/{ORG}/directories/dir-two/users/{LEAVER}/suspend",
    ]


async def test_a_configured_directory_is_also_asked_as_the_directory_ids_filter(
    parts: EmulatorParts,
) -> None:
    """jira.js ``getDirectoryUsers``: "By default, returns users in all your directories. To
    get users in a directory only, use the directoryIds field." With ``directory_id`` set,
    offboard's searches (walk, batch, email) name it in ``directoryIds`` as well as in the
    path, so the answer holds that directory's accounts under either reading; the emulator
    now applies the filter (it ignored it)."""
    state = parts.state
    state.add_directory(ORG, Directory("dir-two", "Second identity provider"))
    [elsewhere] = generate_accounts(state, ORG, 1, domain="example.com", directory_id="dir-two")
    bodies: list[dict[str, Any]] = []

    def record(body: dict[str, Any]) -> dict[str, Any]:
        bodies.append(body)
        return body

    async with directory(tampering(parts, request_body=record), directory_id="dir-main") as one:
        await one.snapshot()
        await one.read_accounts([AccountId(LEAVER)])
        await one.find_by_emails(["leaver@example.com"])
    assert len(bodies) >= 3
    assert all(body["directoryIds"] == ["dir-main"] for body in bodies)
    every = f"/admin/v2/orgs/{ORG}/directories/-/users/search"
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(create_app(parts=parts)), base_url=BASE
    ) as client:
        headers = {"Authorization": "Bearer emulator-org-key"}
        asked = await client.post(every, headers=headers, json={"directoryIds": ["dir-two"]})
    assert [user["accountId"] for user in asked.json()["data"]] == [elsewhere]


async def test_a_scim_record_whose_email_lacks_a_value_does_not_fail_the_listing() -> None:
    """``ScimUserEmail`` requires none of its fields (SCIM spec): one email entry without a
    ``value`` failed the whole listing, so every SCIM link, and with them the snapshot."""
    page = {
        "totalResults": 2, "startIndex": 1, "itemsPerPage": 2,
        "Resources": [
            {"id": "s-1", "userName": "E-1", "emails": [{"type": "work", "primary": True}],
             "urn:scim:schemas:extension:atlassian-external:1.0": {"atlassianAccountId": "a-1"}},
            {"id": "s-2", "userName": "b@example.com", "emails": [{"value": "b@example.com"}],
             "urn:scim:schemas:extension:atlassian-external:1.0": {"atlassianAccountId": "a-2"}},
        ],
    }  # fmt: skip
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=page))
    async with build_client(BASE, auth=BearerAuth("k"), transport=transport) as client:
        links = await ScimAdapter(client, "scim-dir-1").links()
    assert {account: link.scim_user_id for account, link in links.items()} == {
        "a-1": "s-1", "a-2": "s-2",
    }  # fmt: skip


# --- a repeated write ---------------------------------------------------------------------


async def test_a_suspension_whose_answer_was_lost_is_settled_by_reading_when_retried(
    parts: EmulatorParts,
) -> None:
    """A suspend that timed out is sent again (a temporary failure is retried); the first
    may have gone through. Atlassian documents no answer for a repeat: a tenant answering
    409 failed an action that had in fact succeeded. The 409 is settled by reading the
    membership, as the lifecycle calls' 409 already was."""
    parts.state.orgs[ORG].settings.membership_repeat_conflict = True
    inner = httpx.ASGITransport(create_app(parts=parts))
    lost: list[str] = []

    async def lose_the_first_answer(request: httpx.Request) -> httpx.Response:
        response = await inner.handle_async_request(request)
        if request.url.path.endswith("/suspend") and not lost:
            lost.append(request.url.path)  # the emulator did suspend; the answer is lost
            raise httpx.ReadTimeout("answer lost", request=request)
        await response.aread()
        return response

    suspend = Action(
        ActionKind.SUSPEND, IdentityId("kc-1"), AccountId(LEAVER), None,
        Rule.IDENTITY_DISABLED, "Disabled in Keycloak",
    )  # fmt: skip
    transport = httpx.MockTransport(lose_the_first_answer)
    async with directory(transport, directory_id="dir-main") as adapter:
        result = await adapter.execute(suspend)
    assert (result.changed, result.http_status, result.detail) == (False, 409, "already in state")
    assert parts.state.orgs[ORG].directories["dir-main"].memberships[LEAVER] == "suspended"
    suspends = [e for e in parts.log.entries() if e.path.endswith("/suspend")]
    assert [e.status for e in suspends] == [204, 409]
