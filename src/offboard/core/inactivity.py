"""The licence plan: the inactivity policy's steps and leavers' API tokens. Pure.

Only accounts linked to a current (enabled) Keycloak identity can be inactive; leavers,
orphans and unlinked records are the leaver flow's and the reports' business. For each:

* ``inactive-warn``: unused for ``warn_after`` (never used counts from joining the org) and
  not warned since its last use → notify the person and their manager (or the admin);
* ``inactive-remove``: warned ``remove_after`` ago and still unused → suspend (any account)
  or deactivate (managed accounts; others are suspended);
* ``inactive-delete``: access removed for inactivity ``delete_after`` ago, managed, only
  when configured;
* ``inactive-returned``: access removed for inactivity, and the person is back (used an
  Atlassian product since, or an admin exempted them) → the matching undo;
* ``inactive-exempt`` (skipped): exempt by Keycloak group, email or account id.
* ``inactive-unknown`` (skipped): no use on record and no joining date, so no idle time to
  act on (a guess could warn, then remove, someone who joined yesterday).

``leaver-tokens``: an account offboard deprovisioned that still holds API tokens gets one
``revoke_tokens`` action whose reason says how many. Protected principals are never acted
on. The plan goes through the same guards as any other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from offboard.core.accounts import Account, AccountClass, AccountId
from offboard.core.fingerprint import compute_fingerprint
from offboard.core.guards import evaluate_guards
from offboard.core.identities import Identity, IdentityId, normalise_email
from offboard.core.licences import AccountUsage
from offboard.core.links import Link
from offboard.core.plan import Action, Entry, EntryStatus, GuardName, Plan, Rule
from offboard.core.policy import UNDO_OF, ActionKind, Policy
from offboard.core.snapshots import SourceSnapshot, TargetSnapshot


@dataclass(frozen=True, slots=True)
class InactivityPolicy:
    """The operator's inactivity settings, as plain data."""

    enabled: bool = False
    warn_after: timedelta = timedelta(days=90)
    remove_after: timedelta = timedelta(days=30)
    remove_with: ActionKind = ActionKind.SUSPEND
    delete_after: timedelta | None = None
    exempt_groups: frozenset[str] = frozenset()
    exempt_emails: frozenset[str] = frozenset()
    exempt_account_ids: frozenset[str] = frozenset()
    revoke_leaver_tokens: bool = False


@dataclass(frozen=True, slots=True)
class InactivityMark:
    """What offboard did about one account's inactivity, kept in the store."""

    account_id: str
    identity_id: str
    warned_at: datetime | None = None
    removed_at: datetime | None = None
    removal_kind: str | None = None


@dataclass(frozen=True, slots=True)
class LicenceInputsView:
    """Everything the licence planner reads (all already fetched)."""

    source: SourceSnapshot
    target: TargetSnapshot
    usages: Mapping[str, AccountUsage]
    links: Sequence[Link]
    marks: Mapping[str, InactivityMark]
    token_counts: Mapping[str, int]
    """API tokens held by each account offboard deprovisioned (only those were listed)."""


def _suffix(rule: Rule, now: datetime) -> str:
    return f"; rule {rule}; planned {now:%Y-%m-%dT%H:%MZ}"


def _reason(sentence: str, rule: Rule, now: datetime) -> str:
    return f"offboard: {sentence}{_suffix(rule, now)}"[:200]


def _in_groups(identity: Identity, groups: frozenset[str]) -> bool:
    """Exempt groups match a group path or its last segment (a group name)."""
    names = set(identity.groups) | {g.rpartition("/")[2] for g in identity.groups}
    return bool(names & groups)


@dataclass(slots=True)
class _Planner:
    view: LicenceInputsView
    policy: Policy
    rules: InactivityPolicy
    now: datetime
    actions: list[Action]
    entries: list[Entry]

    def exempt(self, identity: Identity, account: Account) -> bool:
        rules = self.rules
        email = normalise_email(account.email)
        return (
            account.id in rules.exempt_account_ids
            or (email is not None and email in rules.exempt_emails)
            or normalise_email(identity.email) in rules.exempt_emails
            or _in_groups(identity, rules.exempt_groups)
        )

    def protected(self, account: Account) -> Rule | None:
        policy, target = self.policy, self.view.target
        email = normalise_email(account.email)
        if account.id in policy.protected_account_ids or (
            email is not None and email in policy.protected_emails
        ):
            return Rule.PROTECTED_PRINCIPAL
        if account.id == target.key_owner_account_id:
            return Rule.PROTECTED_KEY_OWNER
        if account.is_org_admin and not policy.allow_org_admins:
            return Rule.PROTECTED_ORG_ADMIN
        return None

    def act(self, kind: ActionKind, link: Link, account: Account, rule: Rule, text: str) -> None:
        self.actions.append(
            Action(kind, link.identity_id, link.account_id, account.email, rule,
                   _reason(text, rule, self.now))
        )  # fmt: skip

    def skip(self, rule: Rule, link: Link, account: Account, reason: str) -> None:
        self.entries.append(
            Entry(EntryStatus.SKIPPED, rule, reason, link.identity_id, link.account_id,
                  account.email)
        )  # fmt: skip

    def last_use(self, account: Account) -> datetime | None:
        usage = self.view.usages.get(account.id)
        latest = usage.latest_use if usage is not None else None
        joined = (usage.added_to_org if usage else None) or account.added_to_org
        return latest or joined

    def consider(self, link: Link, identity: Identity, account: Account) -> None:
        mark = self.view.marks.get(account.id)
        usage = self.view.usages.get(account.id)
        used = usage.latest_use if usage is not None else None
        exempt = self.exempt(identity, account)
        if mark is not None and mark.removed_at is not None:
            self.after_removal(link, account, mark, used, exempt)
            return
        if not account.has_access:
            return
        last = self.last_use(account)
        if last is None:
            # Never used, and Atlassian gave no joining date (orgs on the original user
            # management experience): it may have joined yesterday. Not a guess to act on.
            self.skip(Rule.INACTIVE_UNKNOWN, link, account, "no use on record and no date "
                      "it joined the org: how long it went unused is unknown")  # fmt: skip
            return
        idle = self.now - last
        if idle < self.rules.warn_after:
            return
        days = (
            f"unused for {idle.days} days"
            if used is not None
            else f"never used since joining {idle.days} days ago"
        )
        if exempt:
            self.skip(Rule.INACTIVE_EXEMPT, link, account, f"{days}, but exempt from the "
                      "inactivity policy (group, email or account id)")  # fmt: skip
            return
        if (rule := self.protected(account)) is not None:
            self.skip(rule, link, account, f"{days}, but a protected principal")
            return
        warned = mark.warned_at if mark is not None else None
        if warned is None or (used is not None and used > warned):
            text = f"Atlassian account of {identity.username} {days}; warning sent"
            self.act(ActionKind.NOTIFY_INACTIVE, link, account, Rule.INACTIVE_WARN, text)
        elif warned + self.rules.remove_after <= self.now:
            kind = self.rules.remove_with
            if kind is ActionKind.DEACTIVATE and account.account_class is not AccountClass.MANAGED:
                kind = ActionKind.SUSPEND  # only managed accounts can be deactivated
            text = f"{identity.username} {days}, warned {warned:%Y-%m-%d}"
            self.act(kind, link, account, Rule.INACTIVE_REMOVE, text)

    def after_removal(
        self,
        link: Link,
        account: Account,
        mark: InactivityMark,
        used: datetime | None,
        exempt: bool,
    ) -> None:
        assert mark.removed_at is not None
        back = exempt or (used is not None and used > mark.removed_at)
        undo = UNDO_OF.get(ActionKind(mark.removal_kind or "suspend"))
        if back and not account.has_access and undo is not None:
            why = "was exempted" if exempt else "used Atlassian again"
            text = f"{link.email or account.id} {why} after access was removed for inactivity"
            self.act(undo, link, account, Rule.INACTIVE_RETURNED, text)
            return
        after = self.rules.delete_after
        if back or after is None or mark.removed_at + after > self.now:
            return
        if account.pending_deletion or account.account_class is not AccountClass.MANAGED:
            return
        if self.protected(account) is None:
            text = f"access removed for inactivity on {mark.removed_at:%Y-%m-%d}; delete_after"
            self.act(ActionKind.DELETE, link, account, Rule.INACTIVE_DELETE, text)

    def tokens(self, link: Link, account: Account) -> None:
        held = self.view.token_counts.get(account.id, 0)
        if held and link.deactivated_by_offboard and self.protected(account) is None:
            text = f"{link.email or account.id} was deprovisioned and holds {held} API tokens"
            self.act(ActionKind.REVOKE_TOKENS, link, account, Rule.LEAVER_TOKENS, text)


def plan_licences(
    view: LicenceInputsView,
    policy: Policy,
    rules: InactivityPolicy,
    now: datetime,
    overrides: frozenset[GuardName] = frozenset(),
) -> Plan:
    """The licence plan: deterministic, one pass over the links."""
    identities: dict[IdentityId, Identity] = {i.id: i for i in view.source.identities}
    accounts: dict[AccountId, Account] = {a.id: a for a in view.target.accounts}
    planner = _Planner(view, policy, rules, now, [], [])
    for link in sorted(view.links, key=lambda link: (link.account_id, link.identity_id)):
        account = accounts.get(link.account_id)
        if account is None:
            continue
        if rules.revoke_leaver_tokens:
            planner.tokens(link, account)
        identity = identities.get(link.identity_id)
        if rules.enabled and identity is not None and identity.enabled:
            planner.consider(link, identity, account)
    guards = evaluate_guards(
        planner.actions, view.source, view.target, len(view.links), policy.thresholds,
        overrides, None,
    )  # fmt: skip
    fingerprint = compute_fingerprint(planner.actions, planner.entries, guards, (), 1)
    return Plan(
        created_at=now,
        actions=tuple(planner.actions),
        entries=tuple(planner.entries),
        guards=guards,
        fingerprint=fingerprint,
        facts={"linked_accounts": len(view.links), "accounts": len(view.target.accounts)},
    )
