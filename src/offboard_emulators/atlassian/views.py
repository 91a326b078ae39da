"""JSON renderings of accounts, orgs and domains in each API's own casing (reference §9.13)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from offboard_emulators.atlassian.model import Account, Domain, Org
from offboard_emulators.atlassian.state import AtlassianState

PICTURE = "https://avatar-management.services.atlassian.com/default/48"


@lru_cache(maxsize=4096)
def nano_timestamp(moment: datetime) -> str:
    """ISO-8601 UTC with 9 fractional digits, as the vendor emits ``last_active``."""
    return (
        moment.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{moment.microsecond:06d}{moment.microsecond % 7}00Z"
    )


@lru_cache(maxsize=4096)
def milli_timestamp(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds (``2024-01-01T00:00:00.000Z``)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def v1_user(account: Account, base_url: str, suspended: bool = False) -> dict[str, Any]:
    """``User`` of ``GET /admin/v1/orgs/{orgId}/users`` (snake_case). Inactive and
    suspended accounts are not billable."""
    body: dict[str, Any] = {
        "account_id": account.account_id,
        "account_type": account.account_type,
        "account_status": account.account_status,
        "name": account.name,
        "picture": PICTURE,
        "email": account.email,
        "access_billable": account.access_billable
        and account.account_status == "active"
        and not suspended,
        "product_access": [
            {
                "key": product.key,
                "name": product.name,
                "url": product.url,
                **(
                    {"last_active": nano_timestamp(product.last_active)}
                    if product.last_active
                    else {}
                ),
            }
            for product in account.product_access
        ],
        "links": {"self": f"{base_url}/users/{account.account_id}/manage/profile"},
    }
    if account.last_active is not None:
        body["last_active"] = nano_timestamp(account.last_active)
    return body


def documented_source(source: str | None) -> str | None:
    """``managementSource`` as the API documents it: ``invited``, ``synced`` or null. A
    Google Workspace account is synced from an identity provider like any other; only the
    refusal reason (``externalDirectory.google``) tells it apart."""
    return "synced" if source == "google" else source


NULLISH = frozenset(
    {"managementSource", "deactivatedOn", "department", "organization", "location", "timeZone"}
)
"""``MultiDirectoryUser`` fields jira.js types as nullish: sent as ``null`` when unset."""


def v2_user(
    state: AtlassianState, account: Account, directory_id: str, expand: frozenset[str]
) -> dict[str, Any]:
    """``MultiDirectoryUser`` (camelCase); ``platformRoles``, ``productAccess`` and ``groups``
    only when expanded (reference §1.5)."""
    body: dict[str, Any] = {
        "accountId": account.account_id,
        "accountType": account.account_type,
        "status": state.composite_status(account, directory_id),
        "accountStatus": account.account_status,
        "membershipStatus": state.membership_status(account, directory_id),
        "addedToOrg": milli_timestamp(account.added_to_org) if account.added_to_org else None,
        "name": account.name,
        "nickname": account.nickname,
        "email": account.email,
        "emailVerified": account.email_verified,
        "claimStatus": state.claim_status(account),
        "picture": PICTURE,
        "avatar": PICTURE,
        "managementSource": documented_source(account.management_source),
        "links": {"self": account.account_id},
    }
    if "platformRoles" in expand or not state.realism.platform_roles_need_expand:
        body["platformRoles"] = list(account.platform_roles)
    if account.deactivated_on is not None:
        body["deactivatedOn"] = milli_timestamp(account.deactivated_on)
    elif state.realism.nulls_for_unset:
        body["deactivatedOn"] = None
    if account.pending_deletion_at is not None:
        body["forDeletion"] = True
    if "productAccess" in expand:
        body["productAccess"] = [
            {"key": p.key, "name": p.name, "url": p.url} for p in account.product_access
        ]
    if "groups" in expand:
        body["groups"] = []
    if "counts.resources" in expand:
        body["counts"] = {"resources": len(account.product_access)}
    if state.realism.nulls_for_unset:
        nullish = {"department": account.department, "organization": None, "location": None}
        body.update({**nullish, "timeZone": None})
        return {k: v for k, v in body.items() if v is not None or k in NULLISH}
    return {k: v for k, v in body.items() if v is not None or k == "managementSource"}


def public_user(account: Account, expand: frozenset[str]) -> dict[str, Any]:
    """``PublicUser`` of v1 search: only id, type and status unless expanded."""
    body: dict[str, Any] = {
        "accountId": account.account_id,
        "accountType": account.account_type,
        "accountStatus": account.account_status,
    }
    if "NAME" in expand:
        body["name"] = account.name
        body["nickname"] = account.nickname
    if "EMAIL" in expand:
        body["email"] = account.email
    if "EMAIL_VERIFIED" in expand:
        body["emailVerified"] = account.email_verified
    return body


def um_profile(account: Account) -> dict[str, Any]:
    """``AtlassianAccountUser`` wrapped as ``{"account": ...}``."""
    extended = {"job_title": account.job_title, "department": account.department}
    return {
        "account": {
            "account_id": account.account_id,
            "account_type": account.account_type,
            "account_status": account.account_status,
            "name": account.name,
            "nickname": account.nickname,
            "picture": PICTURE,
            "email": account.email,
            "zoneinfo": account.zoneinfo,
            "locale": account.locale,
            "extended_profile": {k: v for k, v in extended.items() if v is not None},
        }
    }


def org_model(org: Org, base_url: str) -> dict[str, Any]:
    """``OrgModel``."""
    org_url = f"{base_url}/admin/v1/orgs/{org.org_id}"
    return {
        "id": org.org_id,
        "type": "orgs",
        "attributes": {"name": org.name},
        "relationships": {
            "domains": {"links": {"related": f"{org_url}/domains"}},
            "users": {"links": {"related": f"{org_url}/users"}},
        },
        "links": {"self": org_url},
    }


def domain_model(org: Org, domain: Domain, base_url: str) -> dict[str, Any]:
    """``DomainModel``."""
    return {
        "id": domain.domain_id,
        "type": "domains",
        "attributes": {
            "name": domain.name,
            "claim": {"type": domain.claim_type, "status": domain.claim_status},
        },
        "links": {"self": f"{base_url}/admin/v1/orgs/{org.org_id}/domains/{domain.domain_id}"},
    }
