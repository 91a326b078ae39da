"""Which Atlassian accounts a full run's decisions need, so that only those are read.

A full run used to walk the whole Atlassian directory (a request per hundred accounts) even
though most linked people are plainly fine: enabled, in scope, their link unchanged. For
them the planner's only use of the account is to see nothing to do. ``accounts_needed``
names everything else:

* the linked account of every link that is not plainly fine (a leaver, a deleted or absent
  identity, one out of scope or locked, a shared account, an email change, a link in its
  grace period or one offboard deactivated), read by account id, ten per search;
* every email an unlinked identity stands for (its match key, and the address as Keycloak
  spells it when its case differs), searched a hundred at a time, so that new links still
  form and day-one and left-before-watching entries still appear: the search returns every
  account holding the address, which is what the uniqueness of a match is judged on.

The planner then decides only the links whose account was asked (``covered_links``); an
account asked and found neither in an answer nor by a read by id is gone, as it is when a
whole walk lacks it. What a covering read does not show: a plainly fine person's account
that lost access without offboard (a skipped ``not-deactivated-by-offboard`` entry) and
accounts no identity accounts for (``never-linked`` entries): both are reports, not
deprovisioning decisions, and the licence check keeps its own full walk for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass

from offboard.core.accounts import AccountId
from offboard.core.identities import Identity, IdentityId, normalise_email
from offboard.core.links import Link
from offboard.core.policy import Policy
from offboard.core.snapshots import SnapshotKind, SourceSnapshot, TargetSnapshot
from offboard.core.verdicts import Verdict, classify, match_key, match_value

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


def accounts_needed(
    source: SourceSnapshot,
    links: Sequence[Link],
    policy: Policy,
    *,
    only: Set[IdentityId] | None = None,
) -> Needs:
    """The accounts (by id) and emails the decisions of ``source`` need (module docstring).

    ``only``: what the links and identities with these ids alone need (an account shared
    with anyone still counts as shared); ``needs_after_confirming`` uses it.
    """
    shared = _shared_accounts(links)
    linked = {link.identity_id for link in links}
    listed: Iterable[Identity] = source.identities
    if only is not None:
        links = [link for link in links if link.identity_id in only]
        listed = [identity for identity in source.identities if identity.id in only]
    identities = {identity.id: identity for identity in listed}
    deleted = source.deleted
    wanted = {
        link.account_id
        for link in links
        if link.account_id in shared
        or not _plainly_fine(identities.get(link.identity_id), link, deleted, policy)
    }
    return Needs(frozenset(wanted), frozenset(_unlinked_keys(listed, linked, policy)))


def needs_after_confirming(
    listed: SourceSnapshot,
    confirmed: SourceSnapshot,
    links: Sequence[Link],
    policy: Policy,
    asked: Needs,
) -> Needs:
    """``accounts_needed(confirmed, ...) - asked``, where ``asked`` is what ``listed`` needed.

    Keycloak's confirmation re-reads a few hundred of the listed identities; everyone else is
    the same object in both snapshots, so what they need was asked already. Only the
    identities that changed (re-read, gone, or deleted) are looked at again: a few passes
    over the links instead of a second covering computation (a property test holds the
    two equal).
    """
    changed = changed_identities(listed, confirmed)
    if not changed:
        return Needs(frozenset(), frozenset())
    return accounts_needed(confirmed, links, policy, only=changed) - asked


def changed_identities(before: SourceSnapshot, after: SourceSnapshot) -> frozenset[IdentityId]:
    """Ids whose identity is not the very same object in both snapshots, or whose deletion
    changed. An equal copy counts as changed: that only costs a closer look."""
    old = {identity.id: identity for identity in before.identities}
    changed = {
        identity.id for identity in after.identities if old.pop(identity.id, None) is not identity
    }
    changed.update(old)  # listed before, not after
    changed.update(before.deleted ^ after.deleted)
    return frozenset(changed)


def _shared_accounts(links: Iterable[Link]) -> set[AccountId]:
    """Accounts linked to more than one identity (the planner blocks them as ambiguous)."""
    first_owner: dict[AccountId, IdentityId] = {}
    shared: set[AccountId] = set()
    for link in links:
        if first_owner.setdefault(link.account_id, link.identity_id) != link.identity_id:
            shared.add(link.account_id)
    return shared


def _plainly_fine(
    identity: Identity | None, link: Link, deleted: Set[IdentityId], policy: Policy
) -> bool:
    if identity is None or link.identity_id in deleted:
        return False
    if link.leaving_since is not None or link.deactivated_by_offboard:
        return False
    if classify(identity, False, policy).verdict is not Verdict.FINE:
        return False
    # The same email as the link's stands for the same key (or for none): no email change.
    if policy.match_attribute is None and identity.email == link.email:
        return True
    key, _ = match_key(identity, policy.match_attribute)
    # A different key is an email change: the planner relinks.
    return key is None or key == link.email or key == normalise_email(link.email)


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
            keys.add(_as_spelled(identity, policy.match_attribute, key))
    return keys


def _as_spelled(identity: Identity, attribute: str | None, key: str) -> str:
    """The address behind ``key`` as Keycloak spells it (the key when only blanks differ).

    A directory whose email search is exact may hold an account in Keycloak's spelling
    (one made by SAML sign-in) or in lower case: both are asked, and the answers are
    matched without case, as always."""
    value, _ = match_value(identity, attribute)
    spelled = (value or "").strip()
    return spelled if spelled.lower() == key else key


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
