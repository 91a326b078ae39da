"""How the planner sees one identity: fine, a leaver, skipped or blocked, and by which rule.

The verdict is about the identity alone; what it means for an account (and whether an
account is even there) is decided in ``decisions``. States are shared constants, so
classifying a million identities allocates nothing.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from enum import Enum

from offboard.core.identities import Identity, Lockout, normalise_email
from offboard.core.plan import Rule
from offboard.core.policy import Policy, Scope
from offboard.core.printable import is_address


class Verdict(Enum):
    FINE = "fine"
    """Enabled and in scope: keeps (or gets back) access."""
    LEAVER = "leaver"
    """Confirmed gone, disabled or out of scope: loses access."""
    SKIP = "skip"
    """Looks gone but a rule says it is not a leaver (lockout, service account)."""
    BLOCK = "block"
    """Might be gone but it is not confirmed: acting would be a guess."""


@dataclass(frozen=True, slots=True)
class IdentityState:
    verdict: Verdict
    rule: Rule | None = None


FINE = IdentityState(Verdict.FINE)
DELETED = IdentityState(Verdict.LEAVER, Rule.IDENTITY_DELETED)
DISABLED = IdentityState(Verdict.LEAVER, Rule.IDENTITY_DISABLED)
LEFT_SCOPE = IdentityState(Verdict.LEAVER, Rule.IDENTITY_LEFT_SCOPE)
ABSENT = IdentityState(Verdict.BLOCK, Rule.ABSENCE_UNCONFIRMED)
UNCONFIRMED = IdentityState(Verdict.BLOCK, Rule.DISABLE_UNCONFIRMED)
TEMPORARILY_LOCKED = IdentityState(Verdict.SKIP, Rule.TEMPORARILY_LOCKED)
PERMANENTLY_LOCKED = IdentityState(Verdict.SKIP, Rule.PERMANENTLY_LOCKED)
SERVICE_ACCOUNT = IdentityState(Verdict.SKIP, Rule.SERVICE_ACCOUNT)


def classify(identity: Identity | None, deleted: bool, policy: Policy) -> IdentityState:
    """The state of one identity; ``identity`` is None when the snapshot did not list it."""
    if deleted:
        return DELETED
    if identity is None:
        return ABSENT
    if identity.enabled:
        if in_scope(identity, policy.scope):
            return FINE
        state = LEFT_SCOPE
    else:
        state = _disabled_state(identity, policy)
    # A service-account user is a client, never a person who can leave.
    return SERVICE_ACCOUNT if identity.service_account_client_id is not None else state


def _disabled_state(identity: Identity, policy: Policy) -> IdentityState:
    """Keycloak says ``enabled: false``; that is only a leave once confirmed and not a lockout."""
    lockout = identity.lockout
    if lockout is Lockout.TEMPORARY:
        return TEMPORARILY_LOCKED
    if lockout is Lockout.PERMANENT:
        if not policy.permanent_lockout_is_leaver:
            return PERMANENTLY_LOCKED
        return DISABLED if identity.disable_confirmed else UNCONFIRMED
    if lockout is Lockout.NONE and identity.disable_confirmed:
        return DISABLED
    return UNCONFIRMED


def in_scope(identity: Identity, scope: Scope) -> bool:
    """A direct member of a scope group, and holding the scope attribute value.

    Direct membership only, as the Keycloak adapter lists it (``[keycloak] scope_groups``):
    a member of ``/staff/eng`` is not in scope ``/staff`` unless that subgroup is listed.
    """
    if scope.groups and scope.groups.isdisjoint(identity.groups):
        return False
    if scope.attribute is not None:
        name, value = scope.attribute
        if value not in identity.attributes.get(name, ()):
            return False
    return True


def match_key(identity: Identity, attribute: str | None) -> tuple[str | None, Rule]:
    """The Atlassian email an identity stands for, and the rule a match by it carries.

    A value that is not an email address (``is_address``) stands for nothing: it is never
    matched, and an email change to it is not followed.
    """
    value, rule = match_value(identity, attribute)
    key = normalise_email(value)
    return (key if key is not None and is_address(key) else None), rule


def match_value(identity: Identity, attribute: str | None) -> tuple[str | None, Rule]:
    """What ``match_key`` is made from, as Keycloak spells it: the match attribute's value
    when it has one that is not blank, else the email."""
    if attribute is not None:
        value = identity.attribute(attribute)
        if normalise_email(value) is not None:
            return value, Rule.MATCHED_BY_ATTRIBUTE
    return identity.email, Rule.MATCHED_BY_EMAIL


def in_scope_domains(policy_domains: Set[str], verified: Set[str]) -> frozenset[str]:
    """The domains offboard may act on: those the operator listed, else every verified one.

    A listed domain need not be verified: accounts on it are unmanaged, and the only call
    that reaches them is a suspension in the org directory (DESIGN.md section 4). Listing it
    is the operator's explicit claim of ownership.
    """
    if policy_domains:
        return frozenset(d.lower() for d in policy_domains)
    return frozenset(d.lower() for d in verified)
