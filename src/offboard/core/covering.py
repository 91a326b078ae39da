"""Which Atlassian accounts a full run's decisions need, so that only those are read.

A full run used to walk the whole Atlassian directory (a request per hundred accounts) even
though most linked people are plainly fine: enabled, in scope, their link unchanged. For
them the planner's only use of the account is to see nothing to do. ``accounts_needed``
names everything else:

* the linked account of every link that is not plainly fine (a leaver, a deleted or absent
  identity, one out of scope or locked, a shared account, an email change, a link in its
  grace period or one offboard deactivated), read by account id, ten per search;
* every email an unlinked identity stands for (its match key), searched a hundred at a time,
  so that new links still form and day-one and left-before-watching entries still appear:
  the search returns every account holding the address, which is what the uniqueness of a
  match is judged on.

The planner then decides only the links whose account was asked (``covered_links``); an
account asked and found neither in an answer nor by a read by id is gone, as it is when a
whole walk lacks it. What a covering read does not show: a plainly fine person's account
that lost access without offboard (a skipped ``not-deactivated-by-offboard`` entry) and
accounts no identity accounts for (``never-linked`` entries): both are reports, not
deprovisioning decisions, and the licence check keeps its own full walk for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from offboard.core.accounts import AccountId
from offboard.core.identities import Identity, IdentityId, normalise_email
from offboard.core.links import Link
from offboard.core.policy import Policy
from offboard.core.snapshots import SnapshotKind, SourceSnapshot, TargetSnapshot
from offboard.core.verdicts import Verdict, classify, match_key

SEARCH_EMAILS = 100
"""Addresses per v2 ``emails`` search."""
SEARCH_IDS = 10
"""Account ids per v2 ``accountIds`` search."""
WALK_PAGE = 100
"""Accounts per page of the directory walk."""


@dataclass(frozen=True, slots=True)
class Needs:
    """What a covering read must ask Atlassian for."""

    account_ids: frozenset[AccountId]
    emails: frozenset[str]

    def __or__(self, other: Needs) -> Needs:
        return Needs(self.account_ids | other.account_ids, self.emails | other.emails)

    def __sub__(self, other: Needs) -> Needs:
        return Needs(self.account_ids - other.account_ids, self.emails - other.emails)

    @property
    def requests(self) -> int:
        """Searches this takes when every answer fits one page (reads by id not counted)."""
        return _pages(len(self.account_ids), SEARCH_IDS) + _pages(len(self.emails), SEARCH_EMAILS)


def accounts_needed(source: SourceSnapshot, links: Sequence[Link], policy: Policy) -> Needs:
    """The accounts (by id) and emails the decisions of ``source`` need (module docstring)."""
    identities = {identity.id: identity for identity in source.identities}
    owners: dict[AccountId, set[IdentityId]] = {}
    for link in links:
        owners.setdefault(link.account_id, set()).add(link.identity_id)
    wanted = {
        link.account_id
        for link in links
        if len(owners[link.account_id]) > 1
        or not _plainly_fine(identities.get(link.identity_id), link, source, policy)
    }
    linked = {link.identity_id for link in links}
    return Needs(frozenset(wanted), frozenset(_unlinked_keys(source.identities, linked, policy)))


def _plainly_fine(
    identity: Identity | None, link: Link, source: SourceSnapshot, policy: Policy
) -> bool:
    if identity is None or link.identity_id in source.deleted:
        return False
    if link.leaving_since is not None or link.deactivated_by_offboard:
        return False
    key, _ = match_key(identity, policy.match_attribute)
    if key is not None and key != link.email and key != normalise_email(link.email):
        return False  # an email change: the planner relinks
    return classify(identity, False, policy).verdict is Verdict.FINE


def _unlinked_keys(
    identities: Iterable[Identity], linked: set[IdentityId], policy: Policy
) -> set[str]:
    keys: set[str] = set()
    for identity in identities:
        if identity.id in linked or identity.service_account_client_id is not None:
            continue
        key, _ = match_key(identity, policy.match_attribute)
        if key is not None:
            keys.add(key)
    return keys


def covered_links(links: Sequence[Link], target: TargetSnapshot) -> list[Link]:
    """The links a plan decides: all of them, or for a covering read those it asked about."""
    if target.kind is not SnapshotKind.COVERING:
        return list(links)
    asked = target.asked_accounts
    return [link for link in links if link.account_id in asked]


def walk_requests(accounts: int) -> int:
    """Pages of a directory walk over ``accounts`` accounts (an empty one still takes one)."""
    return max(1, _pages(accounts, WALK_PAGE))


def _pages(count: int, size: int) -> int:
    return -(-count // size)
