"""Snapshots: what each side looked like when read, and whether the read was whole."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from offboard.core.accounts import Account
from offboard.core.identities import Identity, IdentityId


class SnapshotKind(StrEnum):
    FULL = "full"
    """Every identity (or account) in scope was listed."""
    TARGETED = "targeted"
    """Only some identities were read, e.g. for an event-driven re-check."""
    COVERING = "covering"
    """Atlassian only, beside a FULL Keycloak read: every account that read's decisions need
    (see ``core.covering``), read fresh, and nothing else."""


@dataclass(frozen=True, slots=True)
class SourceSnapshot:
    """Keycloak identities as read by one walk (or one targeted re-read)."""

    identities: tuple[Identity, ...]
    taken_at: datetime
    complete: bool
    """False when a page failed, was short, or the count moved beyond a bound during the walk."""
    kind: SnapshotKind = SnapshotKind.FULL
    deleted: frozenset[IdentityId] = frozenset()
    """Identities confirmed gone: a read by id answered 404."""
    targeted_ids: frozenset[IdentityId] = frozenset()
    """For TARGETED snapshots: the ids this snapshot speaks for (nothing else is known)."""
    user_count: int | None = None
    """``users/count`` as read around the walk."""
    problems: tuple[str, ...] = ()
    """Why the snapshot is incomplete, in words for a human."""
    source: str = ""
    """Where it came from, e.g. the realm URL."""


@dataclass(frozen=True, slots=True)
class TargetSnapshot:
    """Atlassian accounts of one org as read by one walk."""

    accounts: tuple[Account, ...]
    taken_at: datetime
    complete: bool
    verified_domains: frozenset[str] = frozenset()
    """Domains the org has verified and claimed (lower case)."""
    key_owner_account_id: str | None = None
    """The account that owns the API key: never acted on."""
    kind: SnapshotKind = SnapshotKind.FULL
    problems: tuple[str, ...] = ()
    org_id: str = ""
    directory_id: str = ""
    asked_accounts: frozenset[str] = frozenset()
    """For COVERING snapshots: the linked accounts asked for. Each was answered or read by
    id, so one of them missing from ``accounts`` is gone; links to others are not decided."""
