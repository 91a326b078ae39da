"""The decision rules of DESIGN.md section 4, applied to one identity-account pair.

``Decider`` collects actions, entries and link updates while the planner walks the pairs.
The common case (an identity that is fine, with its account active and its email
unchanged) returns after a few comparisons and allocates nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from offboard.core.accounts import Account, AccountClass, AccountId, AccountStatus
from offboard.core.identities import Identity, IdentityId, normalise_email
from offboard.core.links import Link
from offboard.core.plan import Action, Entry, EntryStatus, Rule
from offboard.core.policy import UNDO_OF, ActionKind, Policy
from offboard.core.reasons import action_reason, entry_reason, who
from offboard.core.simulation import account_after_action
from offboard.core.verdicts import IdentityState, Verdict, match_key

_NOT_LEAVING = frozenset({Verdict.FINE, Verdict.SKIP})


@dataclass(frozen=True, slots=True)
class Settings:
    """What every decision needs besides the pair itself."""

    policy: Policy
    now: datetime
    realm: str
    domains: frozenset[str]
    """In-scope verified domains."""
    protected_emails: frozenset[str]
    """Normalised."""
    key_owner: str | None
    target_is_whole: bool
    """The Atlassian read was FULL and complete, so a missing account really is missing."""


@dataclass(slots=True)
class Decider:
    settings: Settings
    actions: list[Action] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    link_updates: dict[tuple[IdentityId, AccountId], Link] = field(default_factory=dict)

    def decide(
        self,
        state: IdentityState,
        identity: Identity | None,
        link: Link,
        account: Account | None,
        new: bool = False,
    ) -> None:
        """Apply the rules to one pair; ``new`` marks a link made by this plan."""
        # A link made by this plan already holds the identity's current email.
        updated = link if new else self._follow_email(identity, link)
        verdict = state.verdict
        if updated.leaving_since is not None and verdict in _NOT_LEAVING:
            updated = replace(updated, leaving_since=None)
        if account is None:
            if verdict is Verdict.LEAVER and self.settings.target_is_whole:
                self._entry(EntryStatus.BLOCKED, Rule.LINKED_ACCOUNT_MISSING, identity, updated)
        elif verdict is Verdict.FINE:
            if not account.has_access:
                self._give_back(identity, updated, account)
            elif updated.deactivated_by_offboard:
                # Access is back (someone restored it by hand): offboard no longer owns the
                # lack of access, so a later deactivation by others is never "undone".
                updated = replace(
                    updated,
                    deactivated_by_offboard=False,
                    deactivated_at=None,
                    deactivation_kind=None,
                    cut_off_by_hand=False,
                )
        elif verdict is Verdict.LEAVER:
            if account.has_access:
                updated = self._take_away(state, identity, updated, account)
            else:
                self._maybe_delete(identity, updated, account)
        elif account.has_access and state.rule is not None:
            status = EntryStatus.SKIPPED if verdict is Verdict.SKIP else EntryStatus.BLOCKED
            self._entry(status, state.rule, identity, updated, account)
        if new or updated is not link:
            self.link_updates[(updated.identity_id, updated.account_id)] = updated

    def _follow_email(self, identity: Identity | None, link: Link) -> Link:
        """An email change in Keycloak keeps the pair and updates the remembered email."""
        if identity is None:
            return link
        key, _ = match_key(identity, self.settings.policy.match_attribute)
        if key is None or key == link.email or key == normalise_email(link.email):
            return link
        detail = f"{link.email} → {key}"
        reason = action_reason(
            Rule.EMAIL_CHANGED,
            _subject(identity, link),
            self.settings.realm,
            self.settings.now,
            detail,
        )
        self.actions.append(
            Action(
                ActionKind.RELINK,
                link.identity_id,
                link.account_id,
                key,
                Rule.EMAIL_CHANGED,
                reason,
            )
        )
        return replace(link, email=key)

    def _take_away(
        self, state: IdentityState, identity: Identity | None, link: Link, account: Account
    ) -> Link:
        protection = self._protection(account, link)
        if protection is not None:
            self._entry(EntryStatus.SKIPPED, protection, identity, link, account)
            return link
        policy = self.settings.policy
        if policy.grace_period:
            since = link.leaving_since or self.settings.now
            if link.leaving_since is None:
                link = replace(link, leaving_since=since)
            until = since + policy.grace_period
            if until > self.settings.now:
                detail = f"{until:%Y-%m-%dT%H:%MZ}"
                self._entry(EntryStatus.SKIPPED, Rule.GRACE_PERIOD, identity, link, account, detail)
                return link
        kind = policy.action_for(account.account_class)
        if kind is None:
            self._entry(
                EntryStatus.SKIPPED,
                Rule.NO_ACTION_FOR_CLASS,
                identity,
                link,
                account,
                f"{account.account_class} accounts",
            )
        elif kind is ActionKind.SCIM_DEACTIVATE and not policy.scim_directory_configured:
            self._entry(EntryStatus.BLOCKED, Rule.SCIM_KEY_MISSING, identity, link, account)
        else:
            self._act(kind, state.rule or Rule.IDENTITY_DISABLED, identity, link, account)
        return link

    def _maybe_delete(self, identity: Identity | None, link: Link, account: Account) -> None:
        """DELETE_AFTER: offboard deactivated the account long enough ago; never by default."""
        after = self.settings.policy.delete_after
        if after is None or not link.deactivated_by_offboard or link.deactivated_at is None:
            return
        if account.pending_deletion or account.status is AccountStatus.CLOSED:
            return
        if link.deactivated_at + after > self.settings.now:
            return
        protection = self._protection(account, link)
        if protection is not None:
            self._entry(EntryStatus.SKIPPED, protection, identity, link, account)
        elif account.account_class is not AccountClass.MANAGED:
            detail = f"deleting {account.account_class} accounts (only managed ones can be)"
            self._entry(
                EntryStatus.SKIPPED, Rule.NO_ACTION_FOR_CLASS, identity, link, account, detail
            )
        else:
            days = after.days
            detail = f"offboard deactivated the account over {days} days ago (delete_after)"
            self._act(ActionKind.DELETE, Rule.DELETE_AFTER, identity, link, account, detail)

    def _give_back(self, identity: Identity | None, link: Link, account: Account) -> None:
        """Reactivation: only what offboard took away, and only when the policy says so."""
        if not link.deactivated_by_offboard:
            self._entry(
                EntryStatus.SKIPPED, Rule.NOT_DEACTIVATED_BY_OFFBOARD, identity, link, account
            )
            return
        if link.cut_off_by_hand:
            # A human took this access away whatever Keycloak said; a human gives it back.
            self._entry(EntryStatus.SKIPPED, Rule.MANUAL_CUTOFF_HELD, identity, link, account)
            return
        policy = self.settings.policy
        if not policy.reactivate:
            self._entry(EntryStatus.SKIPPED, Rule.REACTIVATION_DISABLED, identity, link, account)
            return
        undo = _undo_of(link.deactivation_kind)
        problem = _why_not_reactivable(undo, account)
        protection = self._protection(account, link)
        if problem is not None or undo is None:
            self._entry(
                EntryStatus.BLOCKED, Rule.NOT_MANAGEABLE, identity, link, account, problem or ""
            )
        elif protection is not None:
            self._entry(EntryStatus.SKIPPED, protection, identity, link, account)
        elif undo is ActionKind.SCIM_REACTIVATE and not policy.scim_directory_configured:
            self._entry(EntryStatus.BLOCKED, Rule.SCIM_KEY_MISSING, identity, link, account)
        else:
            self._act(undo, Rule.IDENTITY_RETURNED, identity, link, account)

    def protection(self, account: Account, link: Link) -> Rule | None:
        """The protection rule that keeps offboard away from this account, if any."""
        return self._protection(account, link)

    def _protection(self, account: Account, link: Link) -> Rule | None:
        """Accounts offboard never touches, whatever the identity did."""
        settings = self.settings
        policy = settings.policy
        # First: the key owner is also among the protected ids when configured, and its
        # own rule says why Atlassian would refuse (administrative.notMyself).
        if settings.key_owner is not None and account.id == settings.key_owner:
            return Rule.PROTECTED_KEY_OWNER
        if account.id in policy.protected_account_ids or (
            settings.protected_emails
            and (
                account.normalised_email in settings.protected_emails
                or normalise_email(link.email) in settings.protected_emails
            )
        ):
            return Rule.PROTECTED_PRINCIPAL
        if account.is_org_admin and not policy.allow_org_admins:
            return Rule.PROTECTED_ORG_ADMIN
        if account.domain not in settings.domains:
            return Rule.OUTSIDE_DOMAINS
        return None

    def _act(
        self,
        kind: ActionKind,
        rule: Rule,
        identity: Identity | None,
        link: Link,
        account: Account,
        detail: str = "",
    ) -> None:
        subject = _subject(identity, link)
        reason = action_reason(rule, subject, self.settings.realm, self.settings.now, detail)
        email = account.email if account.email is not None else link.email
        self.actions.append(Action(kind, link.identity_id, account.id, email, rule, reason))

    def _entry(
        self,
        status: EntryStatus,
        rule: Rule,
        identity: Identity | None,
        link: Link,
        account: Account | None = None,
        detail: str = "",
    ) -> None:
        if rule is Rule.OUTSIDE_DOMAINS and account is not None:
            detail = account.domain or "(none)"
        email = account.email if account is not None and account.email else link.email
        self.entries.append(
            Entry(
                status=status,
                rule=rule,
                reason=entry_reason(rule, _subject(identity, link), detail),
                identity_id=link.identity_id,
                account_id=link.account_id,
                email=email,
            )
        )


def _subject(identity: Identity | None, link: Link) -> str:
    username = identity.username if identity is not None else link.email
    return who(username, link.identity_id)


def _undo_of(deactivation_kind: str | None) -> ActionKind | None:
    try:
        return UNDO_OF.get(ActionKind(deactivation_kind)) if deactivation_kind else None
    except ValueError:
        return None


def _why_not_reactivable(undo: ActionKind | None, account: Account) -> str | None:
    if undo is None:
        return "offboard does not know how it took this account's access away; restore by hand"
    if account.pending_deletion:
        return "the account is pending deletion; cancel the deletion in admin.atlassian.com"
    if account.status is AccountStatus.CLOSED:
        return "the account is closed and cannot be reactivated"
    if not account_after_action(account, undo).has_access:
        # Someone else also took access away (e.g. suspended it): undoing ours is not enough.
        return f"undoing offboard's {undo} would not give access back; restore by hand"
    return None
