"""Seeding: the JSON fixture format (docs/emulators/atlassian.md) and a fast builder."""

from __future__ import annotations

import json
import zlib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from offboard_emulators.atlassian import usage
from offboard_emulators.atlassian.model import (
    Account,
    ApiKey,
    Directory,
    Domain,
    OrgSettings,
    ProductAccess,
    ScimUser,
)
from offboard_emulators.atlassian.state import AtlassianState, ScimLink

PRODUCT_NAMES = {
    "jira-software": "Jira Software",
    "jira-service-desk": "Jira Service Management",
    "confluence": "Confluence",
}


def load_fixture(path: str | Path) -> dict[str, Any]:
    """Read a fixture file."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("a fixture is a JSON object with an 'orgs' list")
    return data


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


def seed(state: AtlassianState, fixture: dict[str, Any]) -> None:
    """Add every org of ``fixture`` (format in docs/emulators/atlassian.md) to ``state``."""
    with state.lock:
        for org_data in fixture.get("orgs", []):
            _seed_org(state, org_data)


def _seed_org(state: AtlassianState, data: dict[str, Any]) -> None:
    org_id = data["id"]
    state.add_org(org_id, data.get("name", org_id), OrgSettings(**data.get("settings", {})))
    for domain in data.get("domains", []):
        state.add_domain(
            org_id,
            Domain(
                domain["id"],
                domain["name"],
                domain.get("claim_status", "verified"),
                domain.get("claim_type", "dns"),
            ),
        )
    for directory in data.get("directories", []):
        state.add_directory(org_id, Directory(directory["id"], directory.get("name", "")))
    for scim in data.get("scim_directories", []):
        state.add_scim_directory(org_id, scim["id"])
        if "api_key" in scim:
            _seed_key(state, org_id, scim["api_key"], "directory", scim["id"])
    for key in data.get("api_keys", []):
        _seed_key(state, org_id, key, "org", None)
    for account in data.get("accounts", []):
        _seed_account(state, org_id, account)
    if "generate" in data:
        spec = data["generate"]
        created = generate_accounts(
            state,
            org_id,
            int(spec["count"]),
            domain=spec["domain"],
            directory_id=spec.get("directory"),
            prefix=spec.get("prefix", "user"),
        )
        if spec.get("vary_activity"):
            usage.vary_activity(state, created, tokens_every=int(spec.get("tokens_every", 0)))


def _seed_key(
    state: AtlassianState, org_id: str, data: dict[str, Any], kind: str, directory: str | None
) -> None:
    state.add_key(
        ApiKey(
            key_id=data["id"],
            secret=data["secret"],
            kind=kind,
            org_id=org_id,
            owner_account_id=data.get("owner_account_id"),
            scopes=tuple(data.get("scopes", ())),
            expires_at=_moment(data.get("expires_at")),
            directory_id=directory,
        )
    )


def _seed_account(state: AtlassianState, org_id: str, data: dict[str, Any]) -> None:
    products = [
        ProductAccess(
            p["key"], p.get("name", p["key"]), p.get("url", ""), _moment(p.get("last_active"))
        )
        for p in data.get("product_access", [])
    ]
    email = data["email"]
    account = Account(
        account_id=data["account_id"],
        email=email,
        name=data.get("name", email.partition("@")[0]),
        nickname=data.get("nickname", email.partition("@")[0][:30]),
        org_id=org_id,
        account_type=data.get("account_type", "atlassian"),
        account_status=data.get("account_status", "active"),
        email_verified=data.get("email_verified", True),
        management_source=data.get("management_source", "invited"),
        platform_roles=list(data.get("platform_roles", [])),
        product_access=products,
        access_billable=data.get("access_billable", True),
        added_to_org=_moment(data.get("added_to_org")),
        last_active=_moment(data.get("last_active")),
        export_control_blocked=data.get("export_control_blocked", False),
        lifecycle_conflict=data.get("lifecycle_conflict", False),
        job_title=data.get("job_title"),
        department=data.get("department"),
    )
    state.add_account(account, dict(data.get("directories", {})))
    for token in data.get("api_tokens", []):
        usage.add_token(state, account.account_id, token["label"], token_id=token.get("id"))
    if "scim" in data:
        link = data["scim"]
        link_scim_user(state, link["directory"], account, link.get("external_id"), link.get("id"))


def link_scim_user(
    state: AtlassianState,
    scim_directory_id: str,
    account: Account,
    external_id: str | None = None,
    scim_id: str | None = None,
) -> ScimUser:
    """Create a SCIM record in ``scim_directory_id`` linked to ``account``."""
    directory = state.org(account.org_id).scim_directories[scim_directory_id]
    now = state.clock()
    user_id = scim_id or f"scim-{len(directory.used_ids) + 1:06d}-{account.account_id[-8:]}"
    user = ScimUser(
        scim_id=user_id,
        user_name=account.email,
        account_id=account.account_id,
        active=account.account_status == "active",
        external_id=external_id,
        attributes={
            "displayName": account.name,
            "emails": [{"value": account.email, "primary": True}],
        },
        created=now,
        last_modified=now,
    )
    directory.users[user_id] = user
    directory.user_names[user.user_name.lower()] = user_id
    directory.used_ids.add(user_id)
    state.scim_links.setdefault(account.account_id, []).append(ScimLink(scim_directory_id, user_id))
    if account.management_source == "invited":
        account.management_source = "synced"
    return user


def generate_accounts(
    state: AtlassianState,
    org_id: str,
    count: int,
    *,
    domain: str,
    directory_id: str | None = None,
    prefix: str = "user",
    start: int = 0,
) -> list[str]:
    """Add ``count`` active managed-looking accounts fast (100k in about a second).

    Emails are ``{prefix}{n:06d}@{domain}``; account ids are 24 hex digits, the first 8
    derived from org, prefix and domain so that several series can coexist.
    """
    now = state.clock()
    series = zlib.crc32(f"{org_id}/{prefix}/{domain}".encode())
    products = [
        ProductAccess(
            "jira-software", PRODUCT_NAMES["jira-software"], "https://emulated.atlassian.net", now
        ),
    ]
    org = state.org(org_id)
    directory = state.directory(org, directory_id) if directory_id else None
    created: list[str] = []
    with state.lock:
        for number in range(start, start + count):
            account_id = f"{series:08x}{number:016x}"
            local = f"{prefix}{number:06d}"
            email = f"{local}@{domain}"
            if account_id in state.accounts or email.lower() in state.by_email:
                raise ValueError(f"account {account_id} or {email} already exists")
            account = Account(
                account_id=account_id,
                email=email,
                name=f"User {number}",
                nickname=local,
                org_id=org_id,
                product_access=list(products),
                added_to_org=now - timedelta(days=number % 365),
                last_active=now,
            )
            state.accounts[account_id] = account
            state.by_email[email.lower()] = account_id
            org.account_order.append(account_id)
            if directory is not None:
                directory.add(account_id)
            created.append(account_id)
        state.changed()
    return created
