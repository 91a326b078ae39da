"""SCIM business rules (reference §3): records, links to accounts, deactivation.

A SCIM user with ``active`` false deactivates its linked account ("deactivated by
Atlassian"); DELETE removes the record, unlinks it and deactivates a managed account.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from offboard_emulators.atlassian.model import Account, ScimDirectory, ScimGroup, ScimUser
from offboard_emulators.atlassian.state import AtlassianState, NotFoundError, ScimLink


@dataclass
class ScimProblemError(Exception):
    """A request the SCIM API refuses: HTTP status, ``scimType`` and detail."""

    status: int
    detail: str
    scim_type: str | None = None


def new_id(directory: ScimDirectory) -> str:
    """A fresh id, never issued before in this directory."""
    while True:
        candidate = str(uuid.uuid4())
        if candidate not in directory.used_ids:
            directory.used_ids.add(candidate)
            return candidate


def primary_email(attributes: dict[str, Any]) -> str:
    """The primary (else first) email of a SCIM user payload."""
    emails = attributes.get("emails") or []
    if not isinstance(emails, list) or not emails:
        raise ScimProblemError(400, "emails is required", "invalidValue")
    chosen = next((e for e in emails if isinstance(e, dict) and e.get("primary")), emails[0])
    value = chosen.get("value") if isinstance(chosen, dict) else None
    if not isinstance(value, str) or "@" not in value:
        raise ScimProblemError(400, "emails[].value must be an email address", "invalidValue")
    return value


def sync_account(state: AtlassianState, user: ScimUser) -> None:
    """Make the linked account follow the record's ``active`` flag and display name."""
    account = state.accounts.get(user.account_id)
    if account is None:
        return
    if isinstance(user.attributes.get("displayName"), str):
        account.name = user.attributes["displayName"]
    if not user.active and account.account_status == "active":
        account.account_status = "inactive"
        account.deactivated_on = state.clock()
        account.deactivated_by = "scim"
    elif user.active and account.account_status == "inactive" and account.deactivated_by == "scim":
        account.account_status = "active"
        account.deactivated_on = None
        account.deactivated_by = None
    state.changed()


def check_user_name(directory: ScimDirectory, user_name: object, own_id: str | None) -> str:
    """The userName, unless another record holds it (409 ``uniqueness``, on every write)."""
    if not isinstance(user_name, str) or not user_name:
        raise ScimProblemError(400, "userName is required", "invalidValue")
    lowered = user_name.lower()
    holder = directory.users.get(directory.user_names.get(lowered, ""))
    if holder is not None and holder.user_name.lower() == lowered and holder.scim_id != own_id:
        raise ScimProblemError(409, f"userName {user_name} already exists", "uniqueness")
    return user_name


def index_user_name(directory: ScimDirectory, user: ScimUser) -> None:
    """Remember the record's current userName (after a create, PUT or PATCH)."""
    directory.user_names[user.user_name.lower()] = user.scim_id


def _account_for(state: AtlassianState, directory: ScimDirectory, email: str, name: str) -> Account:
    """The managed account for ``email`` (linked, not duplicated) or a new synced one."""
    org = state.org(directory.org_id)
    domain = org.domain_named(email.rpartition("@")[2])
    verified = domain is not None and domain.claim_status == "verified"
    if org.settings.scim_require_verified_domain and not verified:
        raise ScimProblemError(400, f"the domain of {email} is not verified", "invalidValue")
    existing = state.account_by_email(email)
    if existing is not None:
        if existing.org_id != org.org_id:
            raise ScimProblemError(
                409, f"{email} belongs to an account of another org", "uniqueness"
            )
        linked = state.scim_links.get(existing.account_id, [])
        if any(link.directory_id == directory.directory_id for link in linked):
            raise ScimProblemError(409, f"{email} is already provisioned", "uniqueness")
        return existing
    account = Account(
        account_id=uuid.uuid4().hex[:24],
        email=email,
        name=name,
        nickname=email.partition("@")[0][:30],
        org_id=org.org_id,
        management_source="synced",
    )
    first_directory = next(iter(org.directories), None)
    state.add_account(account, {first_directory: "active"} if first_directory else None)
    return account


def create_user(
    state: AtlassianState, directory: ScimDirectory, payload: dict[str, Any]
) -> ScimUser:
    """POST /Users: validate, link or create the account, store the record."""
    with state.lock:
        attributes = _writable(payload)
        user_name = check_user_name(directory, payload.get("userName"), None)
        email = primary_email(attributes)
        display = str(attributes.get("displayName") or user_name)
        account = _account_for(state, directory, email, display)
        now = state.clock()
        user = ScimUser(
            scim_id=new_id(directory),
            user_name=user_name,
            account_id=account.account_id,
            active=payload.get("active", True) is not False,
            external_id=payload.get("externalId"),
            attributes=attributes,
            created=now,
            last_modified=now,
        )
        if len(directory.users) >= state.org(directory.org_id).settings.scim_max_users:
            raise ScimProblemError(400, "the directory holds its maximum of users", "invalidValue")
        directory.users[user.scim_id] = user
        index_user_name(directory, user)
        links = state.scim_links.setdefault(account.account_id, [])
        links.append(ScimLink(directory.directory_id, user.scim_id))
        if account.management_source == "invited":
            account.management_source = "synced"
        sync_account(state, user)
        return user


_RESERVED = {"id", "meta", "schemas", "userName", "externalId", "active", "groups", "password"}


def _writable(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k not in _RESERVED}


def user(directory: ScimDirectory, scim_id: str) -> ScimUser:
    """The record, or ``NotFoundError`` (also for deleted ids)."""
    found = directory.users.get(scim_id)
    if found is None:
        raise NotFoundError(f"user {scim_id}")
    return found


def replace_user(
    state: AtlassianState, directory: ScimDirectory, scim_id: str, payload: dict[str, Any]
) -> ScimUser:
    """PUT /Users/{id}: replace every writable attribute."""
    with state.lock:
        record = user(directory, scim_id)
        record.user_name = check_user_name(directory, payload.get("userName"), scim_id)
        attributes = _writable(payload)
        primary_email(attributes)
        record.attributes = attributes
        record.external_id = payload.get("externalId")
        record.active = payload.get("active", True) is not False
        record.last_modified = state.clock()
        index_user_name(directory, record)
        sync_account(state, record)
        return record


def delete_user(state: AtlassianState, directory: ScimDirectory, scim_id: str) -> None:
    """DELETE /Users/{id}: drop the record and its link; deactivate a managed account."""
    with state.lock:
        record = user(directory, scim_id)
        del directory.users[scim_id]
        directory.user_names.pop(record.user_name.lower(), None)
        for group in directory.groups.values():
            if scim_id in group.members:
                group.members.remove(scim_id)
        links = state.scim_links.get(record.account_id, [])
        links[:] = [link for link in links if link.scim_id != scim_id]
        account = state.accounts.get(record.account_id)
        if account is not None and state.claim_status(account) == "managed":
            record.active = False
            sync_account(state, record)


def create_group(
    state: AtlassianState, directory: ScimDirectory, payload: dict[str, Any]
) -> ScimGroup:
    """POST /Groups: the name must be unique; members must exist."""
    with state.lock:
        name = payload.get("displayName")
        if not isinstance(name, str) or not name:
            raise ScimProblemError(400, "displayName is required", "invalidValue")
        if any(g.display_name.lower() == name.lower() for g in directory.groups.values()):
            raise ScimProblemError(409, f"group {name} already exists", "uniqueness")
        now = state.clock()
        group = ScimGroup(
            scim_id=new_id(directory),
            display_name=name,
            external_id=payload.get("externalId"),
            members=capped(state, directory, member_ids(directory, payload.get("members") or [])),
            created=now,
            last_modified=now,
        )
        directory.groups[group.scim_id] = group
        return group


def group(directory: ScimDirectory, scim_id: str) -> ScimGroup:
    """The group, or ``NotFoundError``."""
    found = directory.groups.get(scim_id)
    if found is None:
        raise NotFoundError(f"group {scim_id}")
    return found


def capped(state: AtlassianState, directory: ScimDirectory, members: list[str]) -> list[str]:
    """Members within Atlassian's limit per group (35,000 by default), else a 400."""
    limit = state.org(directory.org_id).settings.scim_max_group_members
    if len(members) > limit:
        raise ScimProblemError(400, f"a group holds at most {limit} users", "invalidValue")
    return members


def member_ids(directory: ScimDirectory, members: object) -> list[str]:
    """SCIM user ids from a ``members`` value; unknown users are a 400."""
    if not isinstance(members, list):
        raise ScimProblemError(400, "members must be a list", "invalidValue")
    ids: list[str] = []
    for member in members:
        value = member.get("value") if isinstance(member, dict) else None
        if not isinstance(value, str) or value not in directory.users:
            raise ScimProblemError(400, f"unknown member {value!r}", "invalidValue")
        if value not in ids:
            ids.append(value)
    return ids
