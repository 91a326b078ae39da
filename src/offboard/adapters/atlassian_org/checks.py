"""Self-check of the org adapter: key valid, org visible, key type, domains, directory."""

from __future__ import annotations

from functools import partial

from offboard.adapters.atlassian_org import requests as rq
from offboard.adapters.atlassian_org.client import EVERY_DIRECTORY, OrgAdapter
from offboard.adapters.atlassian_org.errors import SCOPED_KEY_HINT
from offboard.adapters.atlassian_org.wire import OrgPage
from offboard.ports import (
    AuthenticationError,
    CheckResult,
    NotManageableError,
    OffboardError,
    PermanentError,
)

MANAGED_ACTIVE: dict[str, str | list[str]] = {"claimStatus": "managed", "accountStatus": ["active"]}
"""The probe must be an account user management may manage: an unmanaged one is refused
with ``forbidden`` whatever the key, which would read as a scoped key. ``claimStatus`` is
one string, not an array (``claimStatusParam``; jira.js's search request): sent as an array
it is a 400, and the check would end "not checked" on every real tenant."""
NEW_KEY_FIX = "create an org API key without scopes in admin.atlassian.com → Settings → API keys"


async def self_check(org: OrgAdapter) -> list[CheckResult]:
    """Each line says what was checked and, when it failed, how to fix it."""
    key = await _key_and_org(org)
    if not key[0].ok:
        return key
    return [*key, await _domains(org), await _directory(org), await _key_type(org)]


async def _key_and_org(org: OrgAdapter) -> list[CheckResult]:
    seen: list[str] = []
    cursor: str | None = None
    asked: set[str] = set()
    try:
        while True:
            response = await org.call(partial(rq.list_orgs, org.client, cursor), "list orgs")
            page = OrgPage.model_validate(response.json())
            seen.extend(o.id for o in page.data)
            if (
                org.org_id in seen
                or (cursor := rq.follow(page.links.next, asked, "list orgs")) is None
            ):
                break
    except AuthenticationError as exc:
        return [CheckResult("atlassian.key", False, str(exc), NEW_KEY_FIX)]
    except OffboardError as exc:
        return [CheckResult("atlassian.key", False, str(exc), "check the base URL and network")]
    key = CheckResult("atlassian.key", True, "the org API key is accepted")
    if org.org_id in seen:
        return [key, CheckResult("atlassian.org", True, f"org {org.org_id} is visible")]
    fix = "use the org id shown with the key, or a key created in that org"
    detail = f"org {org.org_id} is not among the {len(seen)} orgs this key sees"
    return [key, CheckResult("atlassian.org", False, detail, fix)]


async def _domains(org: OrgAdapter) -> CheckResult:
    try:
        domains = await org.verified_domains()
    except OffboardError as exc:
        return CheckResult("atlassian.domains", False, str(exc), "give the key domain access")
    if not domains:
        fix = "verify a domain in admin.atlassian.com; only managed accounts can be deactivated"
        return CheckResult("atlassian.domains", False, "no verified domains", fix)
    return CheckResult("atlassian.domains", True, "verified: " + ", ".join(sorted(domains)))


async def _directory(org: OrgAdapter) -> CheckResult:
    try:
        directory_id = await org.directory_id()
        found = await org.directories()
    except OffboardError as exc:
        return CheckResult("atlassian.directory", False, str(exc), "set directory_id")
    if directory_id == EVERY_DIRECTORY:
        detail = f"{len(found)} directories ({', '.join(found)}): reading and acting in all"
        return CheckResult("atlassian.directory", True, detail)
    if directory_id not in found:
        detail = f"directory {directory_id} not found (have: {', '.join(found) or 'none'})"
        return CheckResult("atlassian.directory", False, detail, "set a listed directory_id")
    return CheckResult("atlassian.directory", True, f"directory {directory_id} found")


async def _key_type(org: OrgAdapter) -> CheckResult:
    """User management refuses scoped keys with a 403 on every call: probe one account."""
    probe = org.key_owner_account_id
    if probe is None:
        sample = await _first_account(org)
        if sample is None:
            detail = "no managed account to probe; not checked"
            return CheckResult("atlassian.key_type", True, detail, warning=True)
        probe = sample
    try:
        await org.permission(probe, "lifecycle.enablement")
    except NotManageableError as exc:
        if exc.reason_key != "forbidden":
            return CheckResult("atlassian.key_type", True, "user management answers")
        return CheckResult("atlassian.key_type", False, str(exc), SCOPED_KEY_HINT)
    except PermanentError as exc:
        return CheckResult("atlassian.key_type", False, str(exc), SCOPED_KEY_HINT)
    except OffboardError as exc:
        return CheckResult("atlassian.key_type", False, str(exc), "retry later")
    return CheckResult("atlassian.key_type", True, "user management accepts the key")


async def _first_account(org: OrgAdapter) -> str | None:
    try:
        directory_id = await org.directory_id()
        response = await org.call(
            partial(
                rq.search_users,
                org.client,
                org.org_id,
                directory_id,
                limit=1,
                filters=MANAGED_ACTIVE,
            ),
            "sample one managed account",
        )
    except OffboardError:
        return None
    data = response.json().get("data") or []
    return str(data[0]["accountId"]) if data else None
