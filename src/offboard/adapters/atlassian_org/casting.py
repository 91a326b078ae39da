"""Wire → core: a v2 ``MultiDirectoryUser`` becomes an :class:`Account`."""

from __future__ import annotations

from dataclasses import replace

from offboard.adapters.atlassian_org.wire import DirectoryUser, in_utc
from offboard.core.accounts import (
    Account,
    AccountId,
    AccountStatus,
    Claim,
    ManagementSource,
    Membership,
)

_ACCOUNT_STATUS = {s.value: s for s in AccountStatus}
_MEMBERSHIP = {m.value: m for m in Membership}
_SOURCES = {s.value: s for s in ManagementSource}
# The composite ``status`` speaks for the two parts when they are missing.
_STATUS_TO_MEMBERSHIP = {
    "active": Membership.ACTIVE,
    "suspended": Membership.SUSPENDED,
    "not_invited": Membership.NO_MEMBERSHIP,
}


def _status(user: DirectoryUser) -> AccountStatus:
    if user.account_status in _ACCOUNT_STATUS:
        return _ACCOUNT_STATUS[user.account_status]
    return AccountStatus.INACTIVE if user.status == "deactivated" else AccountStatus.ACTIVE


def _membership(user: DirectoryUser) -> Membership:
    if user.membership_status in _MEMBERSHIP:
        return _MEMBERSHIP[user.membership_status]
    return _STATUS_TO_MEMBERSHIP.get(user.status or "", Membership.ACTIVE)


def _claim(user: DirectoryUser, verified_domains: frozenset[str]) -> Claim:
    if user.claim_status in ("managed", "unmanaged"):
        return Claim(user.claim_status)
    # Without claimStatus, the documented rule decides: managed means a verified domain.
    domain = (user.email or "").rpartition("@")[2].lower()
    return Claim.MANAGED if domain and domain in verified_domains else Claim.UNMANAGED


def _source(value: str | None) -> ManagementSource:
    """``invited``, ``synced`` or null as documented; any other value is UNKNOWN, which is
    classed with the synced accounts (the safe reading: suspend, never a lifecycle call)."""
    if not value:
        return ManagementSource.NONE
    return _SOURCES.get(value, ManagementSource.UNKNOWN)


def to_account(user: DirectoryUser, verified_domains: frozenset[str] = frozenset()) -> Account:
    """The core account for one directory user."""
    membership = _membership(user)
    status = _status(user)
    return Account(
        id=AccountId(user.account_id),
        email=user.email,
        name=user.name or user.nickname or "",
        status=status,
        claim=_claim(user, verified_domains),
        management_source=_source(user.management_source),
        membership=membership,
        platform_roles=None if user.platform_roles is None else frozenset(user.platform_roles),
        billable=status is AccountStatus.ACTIVE and membership is Membership.ACTIVE,
        account_type=user.account_type or "atlassian",
        pending_deletion=bool(user.for_deletion) or user.status == "for_deletion",
        added_to_org=None if user.added_to_org is None else in_utc(user.added_to_org),
    )


_ACCESS_ORDER = (Membership.ACTIVE, Membership.SUSPENDED, Membership.NO_MEMBERSHIP)


def merge_directories(accounts: list[Account]) -> list[Account]:
    """One account per id, in first-seen order. An account held in several directories
    may be listed once per directory: it keeps its access while any membership is active
    (the safe reading for a leaver), and it is billable if any entry is."""
    merged: dict[str, Account] = {}
    for account in accounts:
        seen = merged.get(account.id)
        if seen is None:
            merged[account.id] = account
            continue
        best = min(seen.membership, account.membership, key=_ACCESS_ORDER.index)
        merged[account.id] = replace(
            seen, membership=best, billable=seen.billable or account.billable
        )
    return list(merged.values())
