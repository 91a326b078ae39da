"""Which identities Keycloak must re-read before a plan may act on them.

A listing can say ``enabled: false`` for a user who is only locked out (or, under load,
for one who is fine), and a user missing from a listing may still exist. The service
re-reads these candidates one by one (``IdentitySource.confirm``) and plans afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from offboard.core.accounts import AccountStatus
from offboard.core.identities import Identity, IdentityId
from offboard.core.links import Link
from offboard.core.matching import Index, build_index, considered_links
from offboard.core.policy import Policy
from offboard.core.snapshots import SnapshotKind, SourceSnapshot, TargetSnapshot
from offboard.core.verdicts import match_key


def candidates_to_confirm(
    source: SourceSnapshot, target: TargetSnapshot, links: Sequence[Link], policy: Policy
) -> frozenset[IdentityId]:
    """Unconfirmed disables that matter, and linked identities absent without a 404.

    A disable matters when the identity is linked (or would match by email) to an account
    that still has access, or when ``policy.delete_after`` has run out for an account offboard
    deactivated: its deletion needs the disable confirmed too. Absences are linked ids the
    snapshot speaks for (all ids for a FULL snapshot, its targeted ids otherwise) that it
    neither lists nor saw deleted.
    """
    index = build_index(source, target, links)
    unconfirmed = _unconfirmed_disables(index, source)
    wanted = _with_access(index, unconfirmed, policy) | _due_for_deletion(
        index, unconfirmed, policy, source.taken_at
    )
    speaking = considered_links(index, source)
    absent = {link.identity_id for link in speaking} - index.identities.keys() - source.deleted
    return frozenset(wanted | absent)


def _unconfirmed_disables(index: Index, source: SourceSnapshot) -> dict[IdentityId, Identity]:
    targeted = source.kind is SnapshotKind.TARGETED
    return {
        identity.id: identity
        for identity in index.identities.values()
        if not identity.enabled
        and not identity.disable_confirmed
        and identity.service_account_client_id is None
        and identity.id not in source.deleted
        and (not targeted or identity.id in source.targeted_ids)
    }


def _due_for_deletion(
    index: Index, unconfirmed: dict[IdentityId, Identity], policy: Policy, now: datetime
) -> set[IdentityId]:
    """Leavers offboard deactivated at least ``delete_after`` ago, whose account may go."""
    after = policy.delete_after
    if after is None or not unconfirmed:
        return set()
    return {
        link.identity_id
        for link in index.links
        if link.identity_id in unconfirmed
        and link.deactivated_by_offboard
        and link.deactivated_at is not None
        and link.deactivated_at + after <= now
        and (account := index.accounts.get(link.account_id)) is not None
        and not account.has_access
        and not account.pending_deletion
        and account.status is not AccountStatus.CLOSED
    }


def _with_access(
    index: Index, unconfirmed: dict[IdentityId, Identity], policy: Policy
) -> set[IdentityId]:
    if not unconfirmed:
        return set()
    wanted: set[IdentityId] = set()
    for link in index.links:
        if link.identity_id in unconfirmed:
            account = index.accounts.get(link.account_id)
            if account is not None and account.has_access:
                wanted.add(link.identity_id)
    unlinked = [i for i in unconfirmed.values() if i.id not in index.linked_identities]
    if unlinked:
        emails = {
            email
            for account in index.accounts.values()
            if account.has_access and (email := account.normalised_email) is not None
        }
        wanted.update(i.id for i in unlinked if match_key(i, policy.match_attribute)[0] in emails)
    return wanted
