"""The planner: a pure, deterministic function of two snapshots, the links and the policy.

``plan`` walks every stored link (and, on whole reads, every unique new match), applies the
decision rules, sorts the result by stable keys and runs the guards. The service calls
``candidates_to_confirm`` first (see ``confirming``), has Keycloak re-read those
identities, then calls ``plan``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from offboard.core.accounts import AccountStatus, Membership
from offboard.core.confirming import candidates_to_confirm
from offboard.core.covering import covered_links
from offboard.core.decisions import Decider, Settings
from offboard.core.fingerprint import compute_fingerprint
from offboard.core.guards import evaluate_guards
from offboard.core.identities import normalise_email
from offboard.core.links import Link
from offboard.core.matching import (
    Index,
    MatchOutcome,
    NewPair,
    build_index,
    can_match,
    considered_links,
    match_unlinked,
)
from offboard.core.plan import (
    PLAN_SCHEMA_VERSION,
    Action,
    Entry,
    EntryStatus,
    GuardName,
    Plan,
    Rule,
)
from offboard.core.policy import LINK_KINDS, ActionKind, Policy
from offboard.core.reasons import action_reason, entry_reason, realm_name, who
from offboard.core.snapshots import SnapshotKind, SourceSnapshot, TargetSnapshot
from offboard.core.verdicts import (
    FINE,
    IdentityState,
    Verdict,
    classify,
    in_scope,
    in_scope_domains,
)

__all__ = ["PlanContext", "candidates_to_confirm", "plan"]

_WHOLE = (SnapshotKind.FULL, SnapshotKind.COVERING)


@dataclass(frozen=True, slots=True)
class PlanContext:
    """What a plan needs besides the facts: the time, lifted guards, the last full count."""

    now: datetime
    overrides: frozenset[GuardName] = frozenset()
    previous_source_count: int | None = None
    """Identities in the last FULL source snapshot, for the count-drop guard."""
    adopt_backlog: bool = False
    """Day one: link and act on the people who left before offboard was watching (their
    actions carry ``adopted-leaver``). Only ever set by a human (``--adopt-backlog``)."""
    linked_population: int | None = None
    """Linked accounts in the whole store, for the percentage guard of a targeted plan of
    many people (a wave): its own links alone would make any wave 100 % of itself."""


def plan(
    source: SourceSnapshot,
    target: TargetSnapshot,
    links: Sequence[Link],
    policy: Policy,
    context: PlanContext,
) -> Plan:
    """Decide what to do. Deterministic: the same inputs in any order give the same plan."""
    index = build_index(source, target, links)
    decider = Decider(_settings(source, target, policy, context))
    considered = covered_links(considered_links(index, source), target)
    _decide_links(decider, index, source, policy, considered)
    matched = MatchOutcome()
    if can_match(source, target):
        matched = match_unlinked(index, policy.match_attribute)
        _decide_new_pairs(decider, matched, source, policy, context)
        decider.entries.extend(matched.entries)
        _report_never_linked(decider, index, matched)
    actions = tuple(sorted(decider.actions, key=_action_key))
    entries = tuple(sorted(decider.entries, key=_entry_key))
    link_updates = tuple(sorted(decider.link_updates.values(), key=_link_key))
    guards = evaluate_guards(
        actions,
        source,
        target,
        linked_accounts=_population(context, len(index.owner_of) + len(matched.pairs)),
        thresholds=policy.thresholds,
        overrides=context.overrides,
        previous_source_count=context.previous_source_count,
    )
    return Plan(
        created_at=context.now,
        actions=actions,
        entries=entries,
        guards=guards,
        fingerprint=compute_fingerprint(
            actions, entries, guards, link_updates, PLAN_SCHEMA_VERSION
        ),
        link_updates=link_updates,
        facts={
            "identities": len(index.identities),
            "deleted": len(source.deleted),
            "accounts": len(index.accounts),
            "links": len(index.links),
            "links_considered": len(considered),
            "new_links": len(matched.pairs),
        },
    )


def _settings(
    source: SourceSnapshot, target: TargetSnapshot, policy: Policy, context: PlanContext
) -> Settings:
    protected = (normalise_email(email) for email in policy.protected_emails)
    return Settings(
        policy=policy,
        now=context.now,
        realm=realm_name(source.source),
        domains=in_scope_domains(policy.domains, target.verified_domains),
        protected_emails=frozenset(email for email in protected if email is not None),
        key_owner=target.key_owner_account_id,
        # A covering read asked for every account it lets the planner decide: whole for those.
        target_is_whole=target.kind in _WHOLE and target.complete,
    )


def _decide_links(
    decider: Decider, index: Index, source: SourceSnapshot, policy: Policy, links: list[Link]
) -> None:
    """Every stored pair; the common case (nothing to do) is settled inline, for speed."""
    identities, accounts = index.identities, index.accounts
    deleted, shared = source.deleted, index.shared_accounts
    plain = policy.match_attribute is None
    scope = None if policy.scope.is_whole_realm else policy.scope
    active, suspended = AccountStatus.ACTIVE, Membership.SUSPENDED
    for link in links:
        identity = identities.get(link.identity_id)
        account = accounts.get(link.account_id)
        if (
            plain
            and identity is not None
            and account is not None
            and identity.enabled
            and (scope is None or in_scope(identity, scope))
            and identity.email == link.email
            and link.leaving_since is None
            and not link.deactivated_by_offboard
            # Same as account.has_access when there is no SCIM record to consult.
            and account.status is active
            and account.membership is not suspended
            and account.scim is None
            and link.identity_id not in deleted
            and link.account_id not in shared
        ):
            continue  # fine, active, unchanged: nothing to do or to remember
        _decide_link(decider, index, source, policy, link)


def _decide_link(
    decider: Decider, index: Index, source: SourceSnapshot, policy: Policy, link: Link
) -> None:
    identity = index.identities.get(link.identity_id)
    account = index.accounts.get(link.account_id)
    if link.account_id in index.shared_accounts:
        # One account, several identities: acting for one could hurt the other.
        if account is not None and account.has_access:
            subject = who(identity.username if identity else link.email, link.identity_id)
            decider.entries.append(
                Entry(
                    EntryStatus.BLOCKED,
                    Rule.AMBIGUOUS_IDENTITIES,
                    entry_reason(Rule.AMBIGUOUS_IDENTITIES, subject, link.email or "(none)"),
                    link.identity_id,
                    link.account_id,
                    link.email,
                )
            )
        return
    state = classify(identity, link.identity_id in source.deleted, policy)
    decider.decide(state, identity, link, account)


def _decide_new_pairs(
    decider: Decider,
    matched: MatchOutcome,
    source: SourceSnapshot,
    policy: Policy,
    context: PlanContext,
) -> None:
    """Link fine identities; adopt a leaver's account only when a human asked for it."""
    adopting = policy.adopt_unlinked or context.adopt_backlog
    for pair in matched.pairs:
        identity, account = pair.identity, pair.account
        state = classify(identity, identity.id in source.deleted, policy)
        if state is FINE:
            link = _link_new_pair(decider, pair, context.now)
            decider.decide(state, identity, link, account, new=True)
        elif state.verdict is Verdict.LEAVER and adopting:
            link = _link_new_pair(decider, pair, context.now)
            before = len(decider.actions)
            decider.decide(state, identity, link, account, new=True)
            _mark_adopted(decider, before, identity.username, context.now)
        elif account.has_access:
            decider.entries.append(_unadopted(pair, state))


def _mark_adopted(decider: Decider, since: int, username: str, now: datetime) -> None:
    """The actions just decided for an adopted leaver carry the adoption rule and reason."""
    for n in range(since, len(decider.actions)):
        action = decider.actions[n]
        if action.kind in LINK_KINDS:
            continue
        subject = who(username, action.identity_id)
        reason = action_reason(
            Rule.ADOPTED_LEAVER, subject, decider.settings.realm, now, str(action.rule)
        )
        decider.actions[n] = replace(action, rule=Rule.ADOPTED_LEAVER, reason=reason)


def _link_new_pair(decider: Decider, pair: NewPair, now: datetime) -> Link:
    identity, account, email = pair.identity, pair.account, pair.email
    subject = who(identity.username, identity.id)
    reason = action_reason(pair.rule, subject, decider.settings.realm, now, email)
    decider.actions.append(
        Action(ActionKind.LINK, identity.id, account.id, email, pair.rule, reason)
    )
    return Link(identity.id, account.id, email, linked_at=now)


def _unadopted(pair: NewPair, state: IdentityState) -> Entry:
    """A match whose identity is not fine: never linked now, so never acted on by default."""
    subject = who(pair.identity.username, pair.identity.id)
    if state.verdict is Verdict.LEAVER:
        rule, detail = Rule.LEFT_BEFORE_WATCHING, ""
    elif state.rule is None:
        rule, detail = Rule.NEVER_LINKED, ""
    else:
        rule, detail = state.rule, ""
    status = EntryStatus.BLOCKED if state.verdict is Verdict.BLOCK else EntryStatus.SKIPPED
    reason = entry_reason(rule, subject, detail)
    return Entry(status, rule, reason, pair.identity.id, pair.account.id, pair.account.email)


def _population(context: PlanContext, linked_here: int) -> int:
    """The percentage guard's denominator: the store's links when given, at least this plan's."""
    if context.linked_population is None:
        return linked_here
    return max(context.linked_population, linked_here)


def _report_never_linked(decider: Decider, index: Index, matched: MatchOutcome) -> None:
    """Active accounts on in-scope domains that no identity or link accounts for."""
    domains = decider.settings.domains
    unclaimed = index.accounts.keys() - index.owner_of.keys() - matched.claimed
    for account_id in unclaimed:
        account = index.accounts[account_id]
        if account.has_access and account.domain in domains:
            decider.entries.append(
                Entry(
                    EntryStatus.SKIPPED,
                    Rule.NEVER_LINKED,
                    entry_reason(Rule.NEVER_LINKED, detail=" (no Keycloak identity has its email)"),
                    None,
                    account.id,
                    account.email,
                )
            )


def _action_key(action: Action) -> tuple[str, str, str]:
    return (action.identity_id, action.account_id, action.kind)


def _entry_key(entry: Entry) -> tuple[str, str, str, str, str]:
    return (
        entry.status,
        entry.identity_id or "",
        entry.account_id or "",
        entry.rule,
        entry.email or "",
    )


def _link_key(link: Link) -> tuple[str, str]:
    return (link.identity_id, link.account_id)
