"""The plan: data that says what to do, to whom, why, and which rule decided it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from offboard.core.accounts import AccountId
from offboard.core.identities import IdentityId
from offboard.core.links import Link
from offboard.core.policy import DEPROVISIONING_KINDS, LINK_KINDS, ActionKind

PLAN_SCHEMA_VERSION = 1


class Rule(StrEnum):
    """Named rules. Every action and entry in a plan carries the one that produced it."""

    IDENTITY_DISABLED = "identity-disabled"
    IDENTITY_DELETED = "identity-deleted"
    IDENTITY_LEFT_SCOPE = "identity-left-scope"
    IDENTITY_RETURNED = "identity-returned"
    DELETE_AFTER = "delete-after"
    MATCHED_BY_EMAIL = "matched-by-email"
    MATCHED_BY_ATTRIBUTE = "matched-by-attribute"
    EMAIL_CHANGED = "email-changed"
    INACTIVE_WARN = "inactive-warn"
    INACTIVE_REMOVE = "inactive-remove"
    INACTIVE_DELETE = "inactive-delete"
    INACTIVE_RETURNED = "inactive-returned"
    LEAVER_TOKENS = "leaver-tokens"
    LINKED_BY_HAND = "linked-by-hand"
    """An operator paired the identity with the account (``offboard links set|resolve``)."""
    UNLINKED_BY_HAND = "unlinked-by-hand"
    """An operator removed a pairing (``offboard links remove``)."""
    MANUAL_CUTOFF = "manual-cutoff"
    """An operator cut the person off now, whatever Keycloak says (``offboard cutoff now``)."""
    MANUAL_CUTOFF_LIFTED = "manual-cutoff-lifted"
    """An operator gave back what a manual cut-off took (``offboard cutoff lift``)."""
    ADOPTED_LEAVER = "adopted-leaver"
    """Day one: a person who left before offboard was watching, adopted by a human decision."""
    # Reasons not to act (skipped) ...
    SERVICE_ACCOUNT = "service-account"
    TEMPORARILY_LOCKED = "temporarily-locked"
    PERMANENTLY_LOCKED = "permanently-locked"
    INACTIVE_EXEMPT = "inactive-exempt"
    INACTIVE_UNKNOWN = "inactive-unknown"
    """No use on record and no joining date: how long it went unused is not known."""
    PROTECTED_PRINCIPAL = "protected-principal"
    PROTECTED_ORG_ADMIN = "protected-org-admin"
    PROTECTED_KEY_OWNER = "protected-key-owner"
    OUTSIDE_DOMAINS = "ownership-outside-domains"
    NEVER_LINKED = "ownership-never-linked"
    LEFT_BEFORE_WATCHING = "left-before-watching"
    """Day one backlog: a leaver whose active account was never linked; adopted on request."""
    NOT_DEACTIVATED_BY_OFFBOARD = "not-deactivated-by-offboard"
    REACTIVATION_DISABLED = "reactivation-disabled"
    GRACE_PERIOD = "grace-period"
    NO_ACTION_FOR_CLASS = "no-action-for-class"
    EMAIL_NOT_AN_ADDRESS = "email-not-an-address"
    DECIDED_BY_HAND = "decided-by-hand"
    """The account this identity matches was given to another identity by a human."""
    MANUAL_CUTOFF_HELD = "manual-cutoff-held"
    """Cut off by hand: the planner never gives the access back by itself."""
    # ... and reasons it cannot act safely (blocked).
    DISABLE_UNCONFIRMED = "disable-unconfirmed"
    ABSENCE_UNCONFIRMED = "absence-unconfirmed"
    AMBIGUOUS_IDENTITIES = "ambiguous-identities"
    AMBIGUOUS_ACCOUNTS = "ambiguous-accounts"
    ACCOUNT_LINKED_ELSEWHERE = "account-linked-elsewhere"
    LINKED_ACCOUNT_MISSING = "linked-account-missing"
    SCIM_KEY_MISSING = "scim-key-missing"
    NOT_MANAGEABLE = "not-manageable"
    # Provisioning (core.provisioning): why a SCIM write is planned ...
    JOINER = "provision-joiner"
    EXISTING_ACCOUNT = "provision-existing-account"
    """A person offboard links to an account with no SCIM record: their SCIM user is created,
    and Atlassian links it to that account (brought under SCIM, no second account)."""
    PROFILE_CHANGED = "provision-profile-changed"
    GROUP_SELECTED = "provision-group-selected"
    MOVER_JOINED_GROUP = "provision-joined-group"
    MOVER_LEFT_GROUP = "provision-left-group"
    # ... and why one is not (blocked for a human, never overwritten).
    NO_EMAIL = "provision-no-email"
    EMAIL_TAKEN = "provision-email-taken"
    EMAIL_SHARED = "provision-email-shared"
    DOMAIN_UNVERIFIED = "provision-domain-unverified"
    """The email's domain is not verified in Atlassian: SCIM cannot create the user."""
    GROUP_NAME_TAKEN = "provision-group-name-taken"
    GROUP_NAME_RESERVED = "provision-group-name-reserved"
    GROUP_RENAMED = "provision-group-renamed"
    """A selected Keycloak group was renamed after its sync: Atlassian cannot rename a SCIM
    group, so the old one keeps following Keycloak until a human replaces it."""


class GuardName(StrEnum):
    """Plan-wide guards; each can be lifted for one run with ``--override-guard NAME``."""

    MAX_DEACTIVATIONS = "max-deactivations"
    MAX_DEACTIVATION_PERCENT = "max-deactivation-percent"
    SOURCE_INCOMPLETE = "source-incomplete"
    SOURCE_COUNT_DROP = "source-count-drop"
    TARGET_INCOMPLETE = "target-incomplete"
    DEPROVISIONING_BUDGET = "deprovisioning-budget"
    """Not a plan guard: the budget over time (``offboard.core.budget``) that holds
    deprovisioning across plans; overriding it releases the hold for the plan applied."""

    MAX_CREATES = "max-creates"
    MAX_UPDATES = "max-updates"
    MAX_MEMBERSHIP_REMOVALS = "max-membership-removals"


PROVISIONING_GUARDS = frozenset(
    {GuardName.MAX_CREATES, GuardName.MAX_UPDATES, GuardName.MAX_MEMBERSHIP_REMOVALS}
)
"""Guards only provisioning plans report (``core.guards.evaluate_provisioning_guards``)."""
PLAN_GUARDS = tuple(
    name
    for name in GuardName
    if name is not GuardName.DEPROVISIONING_BUDGET and name not in PROVISIONING_GUARDS
)
"""The guards every deprovisioning plan is judged by, in their order; the budget is judged
when acting, and provisioning plans have guards of their own."""


@dataclass(frozen=True, slots=True)
class Action:
    """One thing to do."""

    kind: ActionKind
    identity_id: IdentityId
    account_id: AccountId
    email: str | None
    rule: Rule
    reason: str
    """A sentence for humans; also the message Atlassian shows on a deactivated account."""
    attributes: tuple[tuple[str, str], ...] = ()
    """What a provisioning write sends (``name``/value pairs, ``member`` repeated); else ()."""

    @property
    def is_deprovisioning(self) -> bool:
        return self.kind in DEPROVISIONING_KINDS

    @property
    def key(self) -> str:
        """Stable identity of the action within and across plans (for idempotency)."""
        return f"{self.kind}:{self.identity_id}:{self.account_id}"


class EntryStatus(StrEnum):
    SKIPPED = "skipped"
    """Deliberately not acted on (a rule says so); nothing is wrong."""
    BLOCKED = "blocked"
    """Not acted on because acting would mean guessing; a human should look."""


@dataclass(frozen=True, slots=True)
class Entry:
    """A case the planner looked at and did not turn into an action, with why."""

    status: EntryStatus
    rule: Rule
    reason: str
    identity_id: IdentityId | None = None
    account_id: AccountId | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class GuardResult:
    """The verdict of one plan-wide guard."""

    name: GuardName
    tripped: bool
    overridden: bool
    message: str
    """Gives the numbers, the limit and the override."""
    observed: float | None = None
    limit: float | None = None

    @property
    def blocks(self) -> bool:
        return self.tripped and not self.overridden


@dataclass(frozen=True, slots=True)
class Plan:
    """What to do, as data: rendered, saved, reviewed, diffed and applied."""

    created_at: datetime
    actions: tuple[Action, ...]
    entries: tuple[Entry, ...]
    guards: tuple[GuardResult, ...]
    fingerprint: str
    link_updates: tuple[Link, ...] = ()
    """Bookkeeping with no Atlassian call: new links, changed emails, grace-period marks."""
    version: int = PLAN_SCHEMA_VERSION
    facts: dict[str, int] = field(default_factory=dict)
    """Counts the planner saw (identities, accounts, links...) for the summary."""

    @property
    def blocked_by(self) -> tuple[GuardResult, ...]:
        return tuple(g for g in self.guards if g.blocks)

    @property
    def is_blocked(self) -> bool:
        return bool(self.blocked_by)

    @property
    def deprovisioning(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.is_deprovisioning)

    @property
    def has_changes(self) -> bool:
        """Anything to apply, link bookkeeping included."""
        return bool(self.actions)

    @property
    def changes_atlassian(self) -> bool:
        """True when applying would send a request to Atlassian (not only record links)."""
        return any(a.kind not in LINK_KINDS for a in self.actions)
