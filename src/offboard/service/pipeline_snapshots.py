"""Snapshot bookkeeping for the pipeline: summaries, the baseline, and targeted reads.

Only a complete FULL snapshot of a plan the count-drop guard let through becomes the baseline
the source-health guard compares with: an incomplete full walk is recorded as kind
``partial`` and a complete one the guard refused as ``unaccepted`` (visible in history, never
a baseline; a journaled override or a released hold accepts it), and a targeted re-read as
``targeted``. The org facts a targeted re-check cannot read (the
verified domains, the key owner) are remembered from the last complete full (or covering)
Atlassian read.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from datetime import datetime

from offboard.core.accounts import Account
from offboard.core.holds import SOURCE_ANOMALY_CURSOR, SOURCE_GUARDS
from offboard.core.identities import Identity, IdentityId
from offboard.core.journal import SnapshotSummary
from offboard.core.links import Link
from offboard.core.plan import Plan
from offboard.core.snapshots import SnapshotKind, SourceSnapshot, TargetSnapshot
from offboard.ports import AccountDirectory, Store

KEYCLOAK, ATLASSIAN = "keycloak", "atlassian"
PARTIAL = "partial"
UNACCEPTED = "unaccepted"
ORG_FACTS_CURSOR = "atlassian:org-facts"


def _kind(kind: SnapshotKind, complete: bool) -> str:
    if kind is SnapshotKind.FULL and not complete:
        return PARTIAL
    return kind.value


def source_summary(snapshot: SourceSnapshot, accepted: bool = True) -> SnapshotSummary:
    kind = _kind(snapshot.kind, snapshot.complete)
    return SnapshotSummary(
        side=KEYCLOAK,
        taken_at=snapshot.taken_at,
        count=len(snapshot.identities),
        complete=snapshot.complete,
        kind=UNACCEPTED if kind == SnapshotKind.FULL.value and not accepted else kind,
        user_count=snapshot.user_count,
        problems=snapshot.problems,
    )


def target_summary(snapshot: TargetSnapshot) -> SnapshotSummary:
    return SnapshotSummary(
        side=ATLASSIAN,
        taken_at=snapshot.taken_at,
        count=len(snapshot.accounts),
        complete=snapshot.complete,
        kind=_kind(snapshot.kind, snapshot.complete),
        problems=snapshot.problems,
    )


def previous_source_count(store: Store) -> int | None:
    """Identities in the last complete full Keycloak snapshot (the count-drop baseline)."""
    baseline = store.last_snapshot(KEYCLOAK, SnapshotKind.FULL.value)
    return baseline.count if baseline is not None else None


def record_snapshots(
    store: Store, source: SourceSnapshot, target: TargetSnapshot, *, accepted: bool = True
) -> None:
    """Keep both summaries; remember the org facts after a complete full Atlassian read.

    ``accepted`` is False when the count-drop guard refused the plan: no new baseline then.
    """
    store.record_snapshot(source_summary(source, accepted))
    store.record_snapshot(target_summary(target))
    if target.kind in (SnapshotKind.FULL, SnapshotKind.COVERING) and target.complete:
        facts = {
            "verified_domains": sorted(target.verified_domains),
            "key_owner_account_id": target.key_owner_account_id,
            "org_id": target.org_id,
            "directory_id": target.directory_id,
        }
        store.set_cursor(ORG_FACTS_CURSOR, json.dumps(facts))


def accept_unaccepted_count(store: Store) -> None:
    """A human accepted the drop (released its hold): the last refused count is the baseline."""
    last = store.last_snapshot(KEYCLOAK, UNACCEPTED)
    if last is not None:
        store.record_snapshot(dataclasses.replace(last, kind=SnapshotKind.FULL.value))


def record_source_health(store: Store, plan: Plan, source: SourceSnapshot) -> None:
    """After a full read: note the source anomaly its guards saw, or clear it when healthy."""
    if source.kind is not SnapshotKind.FULL:
        return
    anomalies = [g.message for g in plan.blocked_by if g.name in SOURCE_GUARDS]
    if anomalies or store.cursor(SOURCE_ANOMALY_CURSOR):
        store.set_cursor(SOURCE_ANOMALY_CURSOR, "; ".join(anomalies))


def targeted_source(
    identity_id: IdentityId, identity: Identity | None, taken_at: datetime
) -> SourceSnapshot:
    """What one fresh read by id says; ``None`` was a confirmed 404."""
    return SourceSnapshot(
        identities=(identity,) if identity is not None else (),
        taken_at=taken_at,
        complete=True,
        kind=SnapshotKind.TARGETED,
        deleted=frozenset() if identity is not None else frozenset({identity_id}),
        targeted_ids=frozenset({identity_id}),
    )


async def targeted_accounts(
    directory: AccountDirectory, links: Iterable[Link], emails: Iterable[str | None]
) -> tuple[Account, ...]:
    """The linked accounts (read by id) and any account holding one of the emails."""
    found: dict[str, Account] = {}
    for link in links:
        account = await directory.read_account(link.account_id)
        if account is not None:
            found[account.id] = account
    for email in {e.strip().lower() for e in emails if e and e.strip()}:
        for account in await directory.find_by_email(email):
            found.setdefault(account.id, account)
    return tuple(sorted(found.values(), key=lambda account: account.id))


def targeted_target(
    store: Store, accounts: tuple[Account, ...], taken_at: datetime
) -> TargetSnapshot:
    """A TARGETED Atlassian snapshot, with the org facts of the last complete full read."""
    facts = json.loads(store.cursor(ORG_FACTS_CURSOR) or "{}")
    return TargetSnapshot(
        accounts=accounts,
        taken_at=taken_at,
        complete=True,
        verified_domains=frozenset(facts.get("verified_domains", ())),
        key_owner_account_id=facts.get("key_owner_account_id"),
        kind=SnapshotKind.TARGETED,
        problems=() if facts else ("no complete full Atlassian read yet: domains unknown",),
        org_id=facts.get("org_id") or "",
        directory_id=facts.get("directory_id") or "",
    )
