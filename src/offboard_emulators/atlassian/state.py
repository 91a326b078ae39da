"""The emulated Atlassian tenant: records, indexes and business rules, without HTTP.

Routes translate the exceptions raised here into each API's own error body.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from offboard_emulators.atlassian.model import (
    DELETION_GRACE_DAYS,
    Account,
    ApiKey,
    Directory,
    Domain,
    Org,
    OrgSettings,
    ScimDirectory,
)
from offboard_emulators.atlassian.realism import ReadLag, Realism

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


@dataclass(slots=True)
class OffsetClock:
    """The wall clock moved by ``offset``; the control surface advances it (14-day window)."""

    offset: timedelta = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


class NotFoundError(LookupError):
    """The org, directory, account or record does not exist (for this caller)."""


@dataclass
class RefusedError(Exception):
    """The caller may not do this. ``key`` is the user-management error key; ``reason`` is
    the restriction reason key for ``forbidden.action``."""

    key: str
    reason: str | None = None


@dataclass
class ConflictError(Exception):
    """The account is not eligible for the lifecycle action (409)."""

    code: str
    message: str


@dataclass
class AuthError(Exception):
    """Unknown, expired or wrong-kind credential (401)."""

    message: str


@dataclass(slots=True)
class ScimLink:
    """Where an account is linked from a SCIM directory."""

    directory_id: str
    scim_id: str


@dataclass(slots=True)
class AtlassianState:
    """Every org, account and key the emulator knows. Thread-safe through ``lock``."""

    clock: Clock = field(default_factory=OffsetClock)
    orgs: dict[str, Org] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)
    by_email: dict[str, str] = field(default_factory=dict)
    keys: dict[str, ApiKey] = field(default_factory=dict)
    scim_links: dict[str, list[ScimLink]] = field(default_factory=dict)
    api_tokens: dict[str, list[Any]] = field(default_factory=dict)
    """User API tokens by account id (records of :mod:`usage`)."""
    lock: threading.RLock = field(default_factory=threading.RLock)
    version: int = 0
    _counts: dict[tuple[object, ...], int] = field(default_factory=dict)
    _verified: dict[str, frozenset[str]] = field(default_factory=dict)
    _orders: dict[tuple[object, ...], list[str]] = field(default_factory=dict)
    realism: Realism = field(default_factory=Realism)
    lag: ReadLag = field(init=False)

    def __post_init__(self) -> None:
        self.lag = ReadLag(
            clock=lambda: self.clock(), seconds=lambda: self.realism.read_lag_seconds
        )

    def reset(self) -> None:
        """Forget every org, account, key and link (the clock is kept)."""
        with self.lock:
            self.orgs.clear()
            self.accounts.clear()
            self.by_email.clear()
            self.keys.clear()
            self.scim_links.clear()
            self.api_tokens.clear()
            self.lag.clear()
            self.changed()

    # ----- building -------------------------------------------------------------------

    def changed(self) -> None:
        """Note a mutation so that cached totals are recomputed."""
        self.version += 1
        self._counts.clear()
        self._verified.clear()
        self._orders.clear()

    def add_org(self, org_id: str, name: str, settings: OrgSettings | None = None) -> Org:
        """Create an org (no domains, directories or accounts yet)."""
        org = Org(org_id=org_id, name=name, settings=settings or OrgSettings())
        self.orgs[org_id] = org
        self.changed()
        return org

    def add_domain(self, org_id: str, domain: Domain) -> None:
        """Give an org a domain with a claim status."""
        self.org(org_id).domains[domain.domain_id] = domain
        self.changed()

    def add_directory(self, org_id: str, directory: Directory) -> None:
        """Give an org a user directory."""
        self.org(org_id).directories[directory.directory_id] = directory
        self.changed()

    def add_scim_directory(self, org_id: str, directory_id: str) -> ScimDirectory:
        """Connect an identity-provider (SCIM) directory to an org."""
        scim = ScimDirectory(directory_id=directory_id, org_id=org_id)
        self.org(org_id).scim_directories[directory_id] = scim
        return scim

    def add_account(self, account: Account, memberships: dict[str, str] | None = None) -> None:
        """Register an account in its org and, optionally, in directories (id → status)."""
        if account.account_id in self.accounts:
            raise ValueError(f"duplicate account id {account.account_id}")
        email_key = account.email.lower()
        if email_key in self.by_email:
            raise ValueError(f"duplicate email {account.email}")
        org = self.org(account.org_id)
        if account.added_to_org is None:
            account.added_to_org = self.clock()
        self.accounts[account.account_id] = account
        self.by_email[email_key] = account.account_id
        org.account_order.append(account.account_id)
        for directory_id, status in (memberships or {}).items():
            self.directory(org, directory_id).add(account.account_id, status)
        self.changed()

    def add_key(self, key: ApiKey) -> None:
        """Register a credential."""
        self.keys[key.secret] = key

    # ----- lookups --------------------------------------------------------------------

    def org(self, org_id: str) -> Org:
        """The org, or ``NotFoundError``."""
        try:
            return self.orgs[org_id]
        except KeyError:
            raise NotFoundError(f"org {org_id}") from None

    def directory(self, org: Org, directory_id: str) -> Directory:
        """A user directory of ``org``, or ``NotFoundError``."""
        try:
            return org.directories[directory_id]
        except KeyError:
            raise NotFoundError(f"directory {directory_id}") from None

    def account(self, account_id: str) -> Account:
        """The account with its deletion timer applied, or ``NotFoundError``."""
        account = self.accounts.get(account_id)
        if account is None:
            raise NotFoundError(f"account {account_id}")
        return self.settle(account)

    def account_by_email(self, email: str) -> Account | None:
        """Exact, case-insensitive email lookup."""
        account_id = self.by_email.get(email.lower())
        return None if account_id is None else self.account(account_id)

    def settle(self, account: Account) -> Account:
        """Close accounts whose 14-day deletion window has passed."""
        pending = account.pending_deletion_at
        if pending is None or account.account_status == "closed":
            return account
        if self.clock() >= pending + timedelta(days=DELETION_GRACE_DAYS):
            account.account_status = "closed"
            self.changed()
        return account

    def authenticate(self, authorization: str | None, kind: str) -> ApiKey:
        """The key behind an ``Authorization: Bearer`` header, if valid for ``kind``."""
        if not authorization or not authorization.startswith("Bearer "):
            raise AuthError("Unauthorized")
        key = self.keys.get(authorization.removeprefix("Bearer ").strip())
        if key is None or key.kind != kind:
            raise AuthError("Unauthorized")
        if key.expires_at is not None and key.expires_at <= self.clock():
            raise AuthError("API key expired")
        return key

    def key_id_for(self, authorization: str | None) -> str | None:
        """The id (never the secret) of the key in a header, for logs and rate limits."""
        if not authorization or not authorization.startswith("Bearer "):
            return None
        key = self.keys.get(authorization.removeprefix("Bearer ").strip())
        return key.key_id if key else "unknown"

    # ----- derived facts --------------------------------------------------------------

    def claim_status(self, account: Account) -> str:
        """``managed`` when the email domain is verified by the account's org."""
        verified = self._verified.get(account.org_id)
        if verified is None:
            domains = self.orgs[account.org_id].domains.values()
            names = (d.name.lower() for d in domains if d.claim_status == "verified")
            verified = self._verified[account.org_id] = frozenset(names)
        return "managed" if account.email_domain in verified else "unmanaged"

    def memberships(self, account: Account) -> dict[str, str]:
        """Directory id → membership status; the old ones for a lagging (stale) copy."""
        stale = self.lag.memberships_of(account)
        if stale is not None:
            return stale
        org = self.orgs[account.org_id]
        return {
            d.directory_id: d.memberships[account.account_id]
            for d in org.directories.values()
            if account.account_id in d.memberships
        }

    def before_write(self, account: Account) -> None:
        """Keep the current view for readers during the read lag (eventual consistency)."""
        self.lag.before_write(account, self.memberships(account))

    def membership_status(self, account: Account, directory_id: str) -> str:
        """``active``, ``suspended`` or ``no_membership`` (``-`` means any directory)."""
        stale = self.lag.memberships_of(account)
        if directory_id != "-":
            if stale is not None:
                return stale.get(directory_id) or "no_membership"
            directory = self.orgs[account.org_id].directories.get(directory_id)
            found = directory.memberships.get(account.account_id) if directory else None
            return found or "no_membership"
        statuses = list(self.memberships(account).values())
        if "active" in statuses:
            return "active"
        return statuses[0] if statuses else "no_membership"

    def directories_holding(self, org: Org, account_id: str) -> set[str]:
        """Ids of the org's directories the account is a member of (any membership)."""
        return {d.directory_id for d in org.directories.values() if account_id in d.memberships}

    def composite_status(self, account: Account, directory_id: str) -> str:
        """v2 ``status``: deactivated / for_deletion / suspended / active / not_invited."""
        if account.pending_deletion_at is not None and account.account_status != "closed":
            return "for_deletion"
        if account.account_status != "active":
            return "deactivated"
        membership = self.membership_status(account, directory_id)
        return {"active": "active", "suspended": "suspended"}.get(membership, "not_invited")

    def cached_order(
        self, cache_key: tuple[object, ...], compute: Callable[[], list[str]]
    ) -> list[str]:
        """A listing order computed once per state version (keeps pages O(page))."""
        if cache_key not in self._orders:
            self._orders[cache_key] = compute()
        return self._orders[cache_key]

    def count_cached(self, cache_key: tuple[object, ...], compute: Callable[[], int]) -> int:
        """A total computed once per state version (keeps list pages O(page))."""
        if cache_key not in self._counts:
            self._counts[cache_key] = compute()
        return self._counts[cache_key]
