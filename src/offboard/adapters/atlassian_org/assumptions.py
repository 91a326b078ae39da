"""``config check --deep``: every read the org adapter uses, against the real tenant, and
what each answer says about the assumptions offboard makes (issue 12).

Read-only: GETs, and searches (POST ``users/search`` reads). Each line says whether the
assumption is DOCUMENTED by Atlassian or INFERRED from field reports, so that the first
real tenant confirms or corrects each quickly. A line that could not be checked says so.
"""

from __future__ import annotations

from functools import partial
from typing import Any
from urllib.parse import quote

from offboard.adapters.atlassian_org import requests as rq
from offboard.adapters.atlassian_org.client import EMAILS_FALLBACK, EVERY_DIRECTORY, OrgAdapter
from offboard.adapters.atlassian_org.wire import Permission
from offboard.core.accounts import NOT_MYSELF
from offboard.ports import CheckResult, OffboardError, PermanentError

DOCUMENTED = "documented"
INFERRED = "inferred from field reports"
UNDOCUMENTED = "not documented"
_SOURCES = {"invited", "synced", None}


def _line(name: str, ok: bool, detail: str, kind: str, fix: str = "") -> CheckResult:
    """One assumption: OK when the tenant agrees, WARN when it does not (never a FAIL:
    offboard copes either way, but the emulator should be corrected)."""
    return CheckResult(f"assume.{name}", True, f"{detail} [{kind}]", fix, warning=not ok)


async def _search(org: OrgAdapter, body: dict[str, Any], what: str) -> dict[str, Any]:
    directory_id = await org.directory_id()
    path = f"/admin/v2/orgs/{org.org_id}/directories/{directory_id}/users/search"
    response = await org.call(lambda: org.client.build_request("POST", path, json=body), what)
    data: dict[str, Any] = response.json()
    return data


async def deep_checks(org: OrgAdapter) -> list[CheckResult]:
    """Each assumption the adapter relies on, as far as this tenant shows it."""
    checks = (
        _cursors,
        _platform_roles,
        _management_sources,
        _directories,
        _media_type,
        _emails_per_search,
        _v1_retired,
        _licence_reads,
        _key_owner,
    )
    results: list[CheckResult] = []
    for check in checks:
        try:
            results.append(await check(org))
        except OffboardError as exc:
            results.append(_line(check.__name__.strip("_"), False, f"not checked: {exc}", "-"))
    return results


async def _cursors(org: OrgAdapter) -> CheckResult:
    page = await _search(org, {"limit": 1}, "search one account")
    cursor = (page.get("links") or {}).get("next")
    if not cursor:
        return _line("cursors", True, "one page only: cursor form not seen", DOCUMENTED)
    second = await _search(org, {"limit": 1, "cursor": cursor}, "follow the cursor")
    followed = bool(second.get("data"))
    form = "a token starting with '/'" if cursor.startswith("/") else "an opaque token"
    if "://" in cursor:
        form = "a URL"
    detail = f"v2 cursor is {form}; following it {'works' if followed else 'FAILED'}"
    return _line("cursors", followed and "://" not in cursor, detail, DOCUMENTED)


async def _platform_roles(org: OrgAdapter) -> CheckResult:
    bare = (await _search(org, {"limit": 20}, "search without expand")).get("data") or []
    asked = await _search(
        org, {"limit": 20, "expand": ["platformRoles"]}, "search with expand platformRoles"
    )
    with_roles = asked.get("data") or []
    given_bare = any("platformRoles" in u for u in bare)
    given_asked = all("platformRoles" in u for u in with_roles)
    detail = (
        f"platformRoles without expand: {'returned' if given_bare else 'absent'}; "
        f"with expand: {'returned' if given_asked else 'MISSING on some accounts'}"
    )
    fix = "" if given_asked else "accounts without roles are protected as possible admins"
    return _line("platform_roles", given_asked, detail, DOCUMENTED, fix)


async def _management_sources(org: OrgAdapter) -> CheckResult:
    users = (await _search(org, {"limit": 100}, "sample 100 accounts")).get("data") or []
    seen = {u.get("managementSource") for u in users}
    odd = sorted(str(s) for s in seen - _SOURCES)
    detail = "managementSource values seen: " + ", ".join(sorted(str(s) for s in seen))
    fix = f"undocumented values {odd} are handled as synced (suspended)" if odd else ""
    return _line("management_source", not odd, detail, DOCUMENTED, fix)


async def _directories(org: OrgAdapter) -> CheckResult:
    found = await org.directories()
    chosen = await org.directory_id()
    if chosen != EVERY_DIRECTORY:
        return _line("directories", True, f"{len(found)} directory, using {chosen}", DOCUMENTED)
    users = (await _search(org, {"limit": 100}, "sample across directories")).get("data") or []
    ids = [u.get("accountId") for u in users]
    repeated = len(ids) - len(set(ids))
    detail = (
        f"{len(found)} directories read as '-'; among {len(ids)} entries, "
        f"{repeated} repeat an account (merged by account id)"
    )
    return _line("directories", True, detail, INFERRED)


async def _media_type(org: OrgAdapter) -> CheckResult:
    """A search without a JSON content type: does Atlassian answer 415 (read-only)?"""
    directory_id = await org.directory_id()
    path = f"/admin/v2/orgs/{org.org_id}/directories/{directory_id}/users/search"
    request = org.client.build_request("POST", path)
    response = await org.client.send(request)
    refused = response.status_code == 415
    detail = f"a POST without a JSON content type answers {response.status_code}"
    return _line("json_content_type", True, detail + (" (as assumed)" if refused else ""), INFERRED)


async def _emails_per_search(org: OrgAdapter) -> CheckResult:
    """Does one v2 search take the hundred addresses a wave's lookups send? ``emails`` has
    no documented maxItems; a tenant that refuses it is asked ten at a time, and it matters
    to know: ten times the requests for every wave, under the rate limit."""
    asked = [f"offboard-check-{n}@example.invalid" for n in range(rq.SEARCH_LIMIT)]
    try:
        await _search(org, {"limit": 1, "emails": asked}, f"search {len(asked)} addresses")
    except PermanentError as exc:
        if exc.status != 400:
            raise
        detail = (
            f"a search of {len(asked)} addresses answers 400: offboard asks "
            f"{EMAILS_FALLBACK} at a time (ten times the requests of a wave's lookups)"
        )
        return _line("emails_per_search", False, detail, UNDOCUMENTED)
    detail = f"one search takes {len(asked)} addresses (as assumed)"
    return _line("emails_per_search", True, detail, UNDOCUMENTED)


async def _v1_retired(org: OrgAdapter) -> CheckResult:
    path = f"/admin/v1/orgs/{org.org_id}/users/search"
    response = await org.client.send(org.client.build_request("POST", path, json={"limit": 1}))
    retired = response.status_code in (404, 410)
    detail = (
        f"v1 users/search answers {response.status_code}; deprovisioning uses only v2 "
        "(the licence check's v1 reads: assume.licence_reads)"
    )
    return _line("v1_retired", True, detail + (" (retired)" if retired else ""), DOCUMENTED)


async def _get(org: OrgAdapter, path: str, what: str) -> dict[str, Any]:
    response = await org.call(lambda: org.client.build_request("GET", path), what)
    data: dict[str, Any] = response.json()
    return data


async def _licence_reads(org: OrgAdapter) -> CheckResult:
    """The licence check's two v1 reads: billing and use per managed account, and one
    account's last-active dates with the day it joined (never-used accounts need it)."""
    base = f"/admin/v1/orgs/{org.org_id}"
    users = (await _get(org, f"{base}/users", "list managed accounts")).get("data") or []
    if not users:
        return _line("licence_reads", True, "v1 users answers; no managed account", DOCUMENTED)
    billable = any("access_billable" in user for user in users)
    account = str(users[0].get("account_id", ""))
    path = f"{base}/directory/users/{quote(account, safe=':|-_')}/last-active-dates"
    dates = (await _get(org, path, f"last active dates {account}")).get("data") or {}
    joined = dates.get("added_to_org") is not None
    detail = (
        f"v1 users: access_billable {'present' if billable else 'ABSENT (no seat counted)'}; "
        f"last-active-dates: added_to_org {'present' if joined else 'absent'}"
        + ("" if joined else " (never-used accounts are not judged inactive)")
    )
    return _line("licence_reads", billable and joined, detail, DOCUMENTED)


async def _key_owner(org: OrgAdapter) -> CheckResult:
    owner = org.key_owner_account_id
    if owner is None:
        detail = "key owner unknown: not checked (it is learned from the first refusal)"
        return _line("key_owner", False, detail, DOCUMENTED)
    response = await org.call(
        partial(rq.permissions, org.client, owner, "lifecycle.enablement"),
        f"permissions of the key owner {owner}",
    )
    entry = Permission.model_validate(response.json().get("lifecycle.enablement") or {})
    says = entry.reason.key if entry.reason else ("allowed" if entry.allowed else "refused")
    detail = f"permissions map on {owner}: {says}"
    return _line("key_owner", says == NOT_MYSELF, detail, INFERRED)
