"""Pairing identities with accounts: stored links first, then email or attribute matches.

A match is only made when it is unique both ways. Anything else is a blocked entry: two
identities for one email, one email on two accounts, or an account that is already linked
to another identity (the "deleted and re-created with the same email" trap: the new
Keycloak id must not inherit the old pairing).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from offboard.core.accounts import Account, AccountId
from offboard.core.identities import Identity, IdentityId
from offboard.core.links import Link
from offboard.core.plan import Entry, EntryStatus, Rule
from offboard.core.printable import printable
from offboard.core.reasons import entry_reason, who
from offboard.core.snapshots import SnapshotKind, SourceSnapshot, TargetSnapshot
from offboard.core.verdicts import match_key


@dataclass(slots=True)
class Index:
    """Dictionaries over the inputs, built once per plan."""

    identities: dict[IdentityId, Identity]
    accounts: dict[AccountId, Account]
    links: list[Link]
    """Unique per (identity, account) pair."""
    owner_of: dict[AccountId, IdentityId]
    """The identity each linked account belongs to (one of them, if shared)."""
    shared_accounts: set[AccountId]
    """Accounts linked to more than one identity: acting on them would be a guess."""
    linked_identities: set[IdentityId]
    decided_by_hand: set[AccountId] = field(default_factory=set)
    """Accounts a human paired with an identity: other claimants are settled, not blocked."""


def build_index(source: SourceSnapshot, target: TargetSnapshot, links: Sequence[Link]) -> Index:
    owner_of = {link.account_id: link.identity_id for link in links}
    shared: set[AccountId] = set()
    unique = list(links)
    if len(owner_of) != len(unique):
        # Some account is listed twice: a duplicate pair, or one account for two identities.
        unique = list({(link.identity_id, link.account_id): link for link in links}.values())
        owners: dict[AccountId, set[IdentityId]] = {}
        for link in unique:
            owners.setdefault(link.account_id, set()).add(link.identity_id)
        shared = {account_id for account_id, ids in owners.items() if len(ids) > 1}
    return Index(
        identities={identity.id: identity for identity in source.identities},
        accounts={account.id: account for account in target.accounts},
        links=unique,
        owner_of=owner_of,
        shared_accounts=shared,
        linked_identities={link.identity_id for link in unique},
        decided_by_hand={link.account_id for link in unique if link.linked_by_hand},
    )


def considered_links(index: Index, source: SourceSnapshot) -> list[Link]:
    """FULL: every link. TARGETED: only links of the identities the snapshot speaks for."""
    if source.kind is SnapshotKind.FULL:
        return index.links
    return [link for link in index.links if link.identity_id in source.targeted_ids]


def can_match(source: SourceSnapshot, target: TargetSnapshot) -> bool:
    """Uniqueness can only be judged on whole, complete reads of both sides (a covering
    Atlassian read searched every unlinked identity's email: whole for those)."""
    return (
        source.kind is SnapshotKind.FULL
        and target.kind in (SnapshotKind.FULL, SnapshotKind.COVERING)
        and source.complete
        and target.complete
    )


@dataclass(frozen=True, slots=True)
class NewPair:
    identity: Identity
    account: Account
    rule: Rule
    """MATCHED_BY_EMAIL or MATCHED_BY_ATTRIBUTE."""
    email: str
    """The normalised email both sides share."""


@dataclass(slots=True)
class MatchOutcome:
    pairs: list[NewPair] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    claimed: set[AccountId] = field(default_factory=set)
    """Accounts some unlinked identity asked for (matched or blocked)."""


def accounts_by_email(accounts: Iterable[Account]) -> dict[str, list[Account]]:
    found: dict[str, list[Account]] = {}
    for account in accounts:
        email = account.normalised_email
        if email is not None:
            found.setdefault(email, []).append(account)
    return found


def unlinked_by_key(
    identities: Iterable[Identity],
    linked: set[IdentityId],
    attribute: str | None,
    unmatchable: list[Entry] | None = None,
) -> dict[str, list[tuple[Identity, Rule]]]:
    """Unlinked, non-service identities grouped by the Atlassian email they stand for.

    One whose email (or match attribute) is set but is not an address goes to
    ``unmatchable`` as a skipped entry instead: shown, never matched.
    """
    groups: dict[str, list[tuple[Identity, Rule]]] = {}
    for identity in identities:
        if identity.id in linked or identity.service_account_client_id is not None:
            continue
        key, rule = match_key(identity, attribute)
        if key is not None:
            groups.setdefault(key, []).append((identity, rule))
        elif unmatchable is not None:
            raw = identity.attribute(attribute) if attribute is not None else None
            raw = raw if raw is not None and raw.strip() else identity.email
            if raw is not None and raw.strip():
                unmatchable.append(_not_an_address(identity, raw))
    return groups


def _not_an_address(identity: Identity, raw: str) -> Entry:
    detail = printable(raw if len(raw) <= 60 else raw[:59] + "…")
    return Entry(
        status=EntryStatus.SKIPPED,
        rule=Rule.EMAIL_NOT_AN_ADDRESS,
        reason=entry_reason(Rule.EMAIL_NOT_AN_ADDRESS, who(identity.username, identity.id), detail),
        identity_id=identity.id,
    )


def match_unlinked(index: Index, attribute: str | None) -> MatchOutcome:
    """New pairs for unlinked identities, or blocked entries where a match is not unique."""
    outcome = MatchOutcome()
    # A set difference in C first: usually almost everyone is linked already.
    unlinked_ids = index.identities.keys() - index.linked_identities
    unlinked = (index.identities[identity_id] for identity_id in unlinked_ids)
    groups = unlinked_by_key(unlinked, index.linked_identities, attribute, outcome.entries)
    if not groups:
        return outcome
    by_email = accounts_by_email(index.accounts.values())
    for key, claimants in groups.items():
        accounts = by_email.get(key)
        if accounts:
            outcome.claimed.update(account.id for account in accounts)
            _match_one(key, claimants, accounts, index, outcome)
    return outcome


def _match_one(
    key: str,
    claimants: list[tuple[Identity, Rule]],
    accounts: list[Account],
    index: Index,
    outcome: MatchOutcome,
) -> None:
    owner_of = index.owner_of
    only_account = accounts[0].id if len(accounts) == 1 else None
    if len(claimants) > 1:
        for identity, _ in claimants:
            outcome.entries.append(
                _blocked(Rule.AMBIGUOUS_IDENTITIES, identity, only_account, key, detail=key)
            )
        return
    identity, rule = claimants[0]
    if only_account is None:
        outcome.entries.append(_blocked(Rule.AMBIGUOUS_ACCOUNTS, identity, None, key, detail=key))
    elif only_account in index.decided_by_hand:
        outcome.entries.append(
            _blocked(Rule.DECIDED_BY_HAND, identity, only_account, key, EntryStatus.SKIPPED)
        )
    elif only_account in owner_of:
        outcome.entries.append(_blocked(Rule.ACCOUNT_LINKED_ELSEWHERE, identity, only_account, key))
    else:
        outcome.pairs.append(NewPair(identity, accounts[0], rule, key))


def _blocked(
    rule: Rule,
    identity: Identity,
    account_id: AccountId | None,
    email: str,
    status: EntryStatus = EntryStatus.BLOCKED,
    detail: str = "",
) -> Entry:
    subject = who(identity.username, identity.id)
    return Entry(
        status=status,
        rule=rule,
        reason=entry_reason(rule, subject, detail),
        identity_id=identity.id,
        account_id=account_id,
        email=email,
    )
