"""Plans for one operator act on one account: a manual cut-off, and lifting it.

A cut-off acts whatever Keycloak says, so the rules about the identity do not apply; the
rules about the account do: protected principals, owned domains, the policy's action per
account class, and the deprovisioning guards. Each function returns an ordinary plan (so
the executor journals, reads back and enforces the guards as for any run); a plan without
an action carries the entry that says why not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from offboard.core.accounts import Account
from offboard.core.decisions import Decider, Settings
from offboard.core.fingerprint import compute_fingerprint
from offboard.core.guards import evaluate_guards
from offboard.core.identities import IdentityId, normalise_email
from offboard.core.links import Link
from offboard.core.plan import PLAN_SCHEMA_VERSION, Action, Entry, EntryStatus, Plan, Rule
from offboard.core.policy import UNDO_OF, ActionKind, Policy
from offboard.core.reasons import action_reason, entry_reason, who
from offboard.core.simulation import account_after_action
from offboard.core.snapshots import SnapshotKind, SourceSnapshot, TargetSnapshot
from offboard.core.verdicts import in_scope_domains


@dataclass(frozen=True, slots=True)
class OneAccount:
    """Everything a one-account act needs, read fresh from both sides just before."""

    identity_id: IdentityId
    username: str | None
    account: Account
    link: Link | None
    policy: Policy
    verified_domains: frozenset[str]
    key_owner: str | None
    linked_accounts: int
    realm: str
    now: datetime


def cutoff_plan(facts: OneAccount, detail: str) -> Plan:
    """Take the account's access away now (rule manual-cutoff), or say why not."""
    account, link = facts.account, _link_of(facts)
    decider = _decider(facts)
    protection = decider.protection(account, link)
    kind = facts.policy.action_for(account.account_class)
    if protection is not None:
        return _refusal(facts, EntryStatus.SKIPPED, protection)
    if not account.has_access:
        return _plan(facts, (), ())
    if kind is None:
        return _refusal(facts, EntryStatus.SKIPPED, Rule.NO_ACTION_FOR_CLASS,
                        f"{account.account_class} accounts")  # fmt: skip
    if kind is ActionKind.SCIM_DEACTIVATE and not facts.policy.scim_directory_configured:
        return _refusal(facts, EntryStatus.BLOCKED, Rule.SCIM_KEY_MISSING)
    return _plan(facts, (_action(facts, kind, Rule.MANUAL_CUTOFF, detail),), ())


def lift_plan(facts: OneAccount, detail: str) -> Plan:
    """Give back what a manual cut-off took, or say why that cannot be done."""
    account, link = facts.account, _link_of(facts)
    if not link.cut_off_by_hand:
        problem = "no manual cut-off to lift on this account; see `offboard reactivate`"
        return _refusal(facts, EntryStatus.BLOCKED, Rule.NOT_MANAGEABLE, problem)
    undo = UNDO_OF.get(ActionKind(link.deactivation_kind)) if link.deactivation_kind else None
    if undo is None or not account_after_action(account, undo).has_access:
        problem = "undoing the cut-off would not give access back; restore it by hand"
        return _refusal(facts, EntryStatus.BLOCKED, Rule.NOT_MANAGEABLE, problem)
    protection = _decider(facts).protection(account, link)
    if protection is not None:
        return _refusal(facts, EntryStatus.SKIPPED, protection)
    return _plan(facts, (_action(facts, undo, Rule.MANUAL_CUTOFF_LIFTED, detail),), ())


def _link_of(facts: OneAccount) -> Link:
    email = facts.account.email or (facts.link.email if facts.link else None)
    return facts.link or Link(facts.identity_id, facts.account.id, email, linked_at=facts.now)


def _decider(facts: OneAccount) -> Decider:
    protected = (normalise_email(email) for email in facts.policy.protected_emails)
    return Decider(
        Settings(
            policy=facts.policy,
            now=facts.now,
            realm=facts.realm,
            domains=in_scope_domains(facts.policy.domains, facts.verified_domains),
            protected_emails=frozenset(e for e in protected if e is not None),
            key_owner=facts.key_owner,
            target_is_whole=False,
        )
    )


def _action(facts: OneAccount, kind: ActionKind, rule: Rule, detail: str) -> Action:
    subject = who(facts.username, facts.identity_id)
    reason = action_reason(rule, subject, facts.realm, facts.now, detail)
    email = facts.account.email or _link_of(facts).email
    return Action(kind, facts.identity_id, facts.account.id, email, rule, reason)


def _refusal(facts: OneAccount, status: EntryStatus, rule: Rule, detail: str = "") -> Plan:
    subject = who(facts.username, facts.identity_id)
    if rule is Rule.OUTSIDE_DOMAINS:
        detail = facts.account.domain or "(none)"
    entry = Entry(status, rule, entry_reason(rule, subject, detail), facts.identity_id,
                  facts.account.id, facts.account.email)  # fmt: skip
    return _plan(facts, (), (entry,))


def _plan(facts: OneAccount, actions: tuple[Action, ...], entries: tuple[Entry, ...]) -> Plan:
    """A plan with the deprovisioning guards; the link is saved first when it is new."""
    source = SourceSnapshot((), facts.now, True, kind=SnapshotKind.TARGETED)
    target = TargetSnapshot((facts.account,), facts.now, True, kind=SnapshotKind.TARGETED)
    guards = evaluate_guards(
        actions,
        source,
        target,
        linked_accounts=max(facts.linked_accounts, 1),
        thresholds=facts.policy.thresholds,
        overrides=frozenset(),
        previous_source_count=None,
    )
    links = (_link_of(facts),) if facts.link is None and actions else ()
    return Plan(
        created_at=facts.now,
        actions=actions,
        entries=entries,
        guards=guards,
        fingerprint=compute_fingerprint(actions, entries, guards, links, PLAN_SCHEMA_VERSION),
        link_updates=links,
        facts={"accounts": 1, "links": facts.linked_accounts},
    )
