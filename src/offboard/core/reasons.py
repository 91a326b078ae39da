"""The sentences a plan carries: why each action or entry is there, in words for an admin.

An action's reason doubles as the message Atlassian shows on a deactivated account, so it
names the Keycloak user, the rule and the planning time, stays under 200 characters, and
never holds a secret.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from offboard.core.plan import Rule
from offboard.core.printable import printable

MAX_REASON = 200

_ACTION_SENTENCES: dict[Rule, str] = {
    Rule.IDENTITY_DISABLED: "Keycloak user {who} was disabled in {realm}",
    Rule.IDENTITY_DELETED: "Keycloak user {who} was deleted from {realm}",
    Rule.IDENTITY_LEFT_SCOPE: "Keycloak user {who} left the offboard scope in {realm}",
    Rule.IDENTITY_RETURNED: "Keycloak user {who} is enabled again in {realm}",
    Rule.DELETE_AFTER: "Keycloak user {who} is gone from {realm}; {detail}",
    Rule.MATCHED_BY_EMAIL: "Keycloak user {who} matches this account by email {detail}",
    Rule.MATCHED_BY_ATTRIBUTE: "Keycloak user {who} names this account in an attribute: {detail}",
    Rule.EMAIL_CHANGED: "Keycloak user {who} changed email: {detail}",
    Rule.LINKED_BY_HAND: "{who} paired with this account by hand ({detail})",
    Rule.UNLINKED_BY_HAND: "{who} unpaired from this account by hand ({detail})",
    Rule.MANUAL_CUTOFF: "{who} cut off by hand ({detail}), whatever {realm} says",
    Rule.MANUAL_CUTOFF_LIFTED: "manual cut-off of {who} lifted by hand ({detail})",
    Rule.ADOPTED_LEAVER: "Keycloak user {who} left {realm} before offboard was watching "
    "({detail}); adopted by an admin",
}

_ENTRY_SENTENCES: dict[Rule, str] = {
    Rule.SERVICE_ACCOUNT: "{who} is a service-account user, never a person who leaves",
    Rule.TEMPORARILY_LOCKED: "{who} is disabled only by a temporary brute-force lockout",
    Rule.PERMANENTLY_LOCKED: "{who} is disabled by a permanent brute-force lockout "
    "(an attack signal; see permanent_lockout_is_leaver)",
    Rule.PROTECTED_PRINCIPAL: "the account is a configured protected principal",
    Rule.PROTECTED_ORG_ADMIN: "the account is an org admin (see allow_org_admins)",
    Rule.PROTECTED_KEY_OWNER: "the account owns offboard's own API key",
    Rule.OUTSIDE_DOMAINS: "the account's domain {detail} is not one offboard may act on "
    "(see policy.domains)",
    Rule.NEVER_LINKED: "the account was never linked to a Keycloak identity{detail}",
    Rule.LEFT_BEFORE_WATCHING: "{who} left before offboard was watching and this account "
    "was never linked; adopt it with `offboard apply --adopt-backlog`",
    Rule.NOT_DEACTIVATED_BY_OFFBOARD: "{who} is back, but offboard did not take this "
    "account's access away",
    Rule.REACTIVATION_DISABLED: "{who} is back; reactivation is off in the policy",
    Rule.GRACE_PERIOD: "{who} is a leaver; the grace period runs until {detail}",
    Rule.NO_ACTION_FOR_CLASS: "the policy has no action for {detail}",
    Rule.EMAIL_NOT_AN_ADDRESS: "{who} has an email that is not an address ({detail}), so it "
    "is never matched to an account",
    Rule.DECIDED_BY_HAND: "{who} matches an account a human gave to another Keycloak identity",
    Rule.MANUAL_CUTOFF_HELD: "{who} was cut off by hand; only a human gives access back "
    "(offboard cutoff lift)",
    Rule.DISABLE_UNCONFIRMED: "Keycloak reports {who} disabled, not yet confirmed by a "
    "fresh read and a brute-force check",
    Rule.ABSENCE_UNCONFIRMED: "{who} is missing from the Keycloak read, not confirmed by 404",
    Rule.AMBIGUOUS_IDENTITIES: "{who} is one of several Keycloak identities claiming the "
    "account of {detail}; decide with `offboard links resolve`",
    Rule.AMBIGUOUS_ACCOUNTS: "several Atlassian accounts have the email {detail}",
    Rule.ACCOUNT_LINKED_ELSEWHERE: "{who} matches an account already linked to another "
    "Keycloak identity; re-link by hand if it is the same person",
    Rule.LINKED_ACCOUNT_MISSING: "the account linked to {who} is missing from a complete "
    "Atlassian read",
    Rule.SCIM_KEY_MISSING: "the account is SCIM-linked and no SCIM directory key is configured",
    Rule.NOT_MANAGEABLE: "{detail}",
}


def realm_name(source: str) -> str:
    """``https://kc/admin/realms/acme (members of /staff)`` → ``realm acme``.

    The scope description after the URL may hold slashes (group paths), so it is cut off
    before the realm segment is taken. Anything without a realm URL is shown as given.
    """
    url = source.split(" (", 1)[0]
    if "/realms/" in url:
        return "realm " + url.rpartition("/realms/")[2].split("/", 1)[0]
    return source or "Keycloak"


def who(username: str | None, identity_id: str) -> str:
    """``jdoe (id 4f9a...)``; a username's control characters shown as escapes, since the
    sentence reaches terminals, the journal and Atlassian's deactivation message."""
    name = printable(username) if username else ""
    return f"{name} (id {printable(identity_id)})" if name else f"id {printable(identity_id)}"


def action_reason(rule: Rule, subject: str, realm: str, now: datetime, detail: str = "") -> str:
    """``offboard: <sentence>; rule <rule>; planned <UTC minute>``, at most 200 characters."""
    sentence = _ACTION_SENTENCES[rule].format(who=subject, realm=realm, detail=detail)
    suffix = _suffix(rule, now)
    room = MAX_REASON - len("offboard: ") - len(suffix)
    if len(sentence) > room:
        sentence = sentence[: room - 1] + "…"
    return f"offboard: {sentence}{suffix}"


@lru_cache(maxsize=64)
def _suffix(rule: Rule, now: datetime) -> str:
    # One plan formats the same few suffixes thousands of times; strftime is not cheap.
    return f"; rule {rule}; planned {now:%Y-%m-%dT%H:%MZ}"


def entry_reason(rule: Rule, subject: str = "the identity", detail: str = "") -> str:
    text = _ENTRY_SENTENCES[rule].format(who=subject, detail=detail)
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"
