"""The conditions that need a human, each with its key, its words and the command to run.

Pure: the service hands in what the daemon knows (the hold, blocked plans, blocked plan
entries, failed actions, credential notices, not-ready reasons); these say it for a human.
Every text is built from guard messages, rules, emails and ids: never from a secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from offboard.core.credentials import ExpiryNotice
from offboard.core.holds import DEPROVISIONING, Hold
from offboard.core.notifications import Condition, Kind
from offboard.core.plan import Entry, Rule

SHOWN_PEOPLE = 10
"""A hold may hold hundreds: the message names a few and counts the rest."""

_BLOCKED_TODO: dict[Rule, tuple[str, ...]] = {
    Rule.AMBIGUOUS_IDENTITIES: (
        'decide who owns the account: offboard links resolve EMAIL KEYCLOAK_ID --reason "..."',
    ),
    Rule.AMBIGUOUS_ACCOUNTS: (
        'pair the right account: offboard links set KEYCLOAK_ID ACCOUNT_ID --reason "..."',
    ),
    Rule.LINKED_ACCOUNT_MISSING: (
        "check the account in admin.atlassian.com; if it is gone, forget the pairing: "
        'offboard links remove KEYCLOAK_ID --reason "..."',
    ),
    Rule.ACCOUNT_LINKED_ELSEWHERE: (
        "see both pairings: offboard links list; remove the wrong one: "
        'offboard links remove KEYCLOAK_ID --reason "..."',
    ),
}
_DEFAULT_BLOCKED_TODO = (
    "see why in the plan: offboard plan; then decide by hand (offboard links, offboard cutoff)",
)


def hold_condition(hold: Hold) -> Condition:
    """An active hold: the guards, the numbers, who waits, and how to release it."""
    people = hold.people
    shown = ", ".join(_named(hold, identity_id) for identity_id in people[:SHOWN_PEOPLE])
    more = f" and {len(people) - SHOWN_PEOPLE} more" if len(people) > SHOWN_PEOPLE else ""
    category = "" if hold.category == DEPROVISIONING else f" --category {hold.category}"
    details = (
        f"Guards: {', '.join(hold.guards)}",
        hold.message,
        f"Since: {hold.since.isoformat()}",
        f"Waiting ({len(people)}): {shown}{more}" if people else "Nobody waits yet.",
    )
    todo = (
        "see who waits and why: offboard hold show",
        f'release it when the change is expected: offboard hold release{category} --reason "..."',
    )
    title = f"{hold.category} is on hold: {len(people)} waiting"
    return Condition(Kind.HOLD, f"hold:{hold.category}:{hold.id}", title, details, todo)


def _named(hold: Hold, identity_id: str) -> str:
    """A person a human recognises: the email the hold keeps, and the id to look them up."""
    email = next((w.email for w in hold.waiting if w.identity_id == identity_id and w.email), None)
    return f"{email} (Keycloak id {identity_id})" if email else f"Keycloak id {identity_id}"


def guard_trip_condition(scope: str, guards: Sequence[str], messages: Sequence[str]) -> Condition:
    """A plan a guard blocked (no hold put: nothing to deprovision waits on it)."""
    where = "the full reconciliation" if scope == "full" else f"the re-check of {scope}"
    todo = (
        "see the plan and the numbers: offboard plan",
        "if the change is expected, apply once past the guard: "
        + " ".join(f"--override-guard {g}" for g in guards)
        + " with offboard apply",
    )
    title = f"a safety guard blocked {where}: {', '.join(guards)}"
    return Condition(Kind.GUARD_TRIP, f"guard:{scope}:{','.join(sorted(guards))}", title,
                     tuple(messages), todo)  # fmt: skip


def blocked_person_condition(entry: Entry) -> Condition:
    """A person the planner will not act on without a human (ambiguous, missing, refused)."""
    who = entry.email or entry.identity_id or entry.account_id or "someone"
    ids = [f"Keycloak id: {entry.identity_id}"] if entry.identity_id else []
    ids += [f"Account id: {entry.account_id}"] if entry.account_id else []
    key = f"blocked:{entry.rule}:{entry.identity_id or ''}:{entry.account_id or entry.email or ''}"
    todo = _BLOCKED_TODO.get(entry.rule, _DEFAULT_BLOCKED_TODO)
    title = f"{who} waits for a human ({entry.rule})"
    return Condition(Kind.BLOCKED_PERSON, key, title, (entry.reason, *ids), todo)


def failed_action_condition(
    key: str, kind: str, email: str | None, outcome: str, detail: str
) -> Condition:
    """An action that failed or did not read back as done; retried at the next pass."""
    who = email or (key.split(":", 2)[1] if ":" in key else key)
    title = f"{kind} of {who} {'failed' if outcome == 'failed' else 'did not read back'}"
    todo = (
        "read what happened: offboard journal list --since 1d",
        "the daemon tries again at its next pass; if it keeps failing, fix the cause shown",
    )
    return Condition(Kind.FAILED_ACTION, f"failed:{key}", title, (detail[:400],), todo)


def refused_account_condition(key: str, kind: str, email: str | None, detail: str) -> Condition:
    """Atlassian refused to manage the account this way: a human decides what to do."""
    who = email or (key.split(":", 2)[1] if ":" in key else key)
    title = f"Atlassian refused the {kind} of {who}: the account waits for a human"
    todo = (
        "read Atlassian's reason: offboard journal list --since 1d",
        "take the access away in admin.atlassian.com, or set policy.actions for this class of "
        "account (docs/concepts/decision-rules.md)",
    )
    return Condition(Kind.BLOCKED_PERSON, f"refused:{key}", title, (detail[:400],), todo)


def expiry_condition(notice: ExpiryNotice) -> Condition:
    """One credential expiry step (30, 14, 7 days, expired): each step notifies once."""
    key = f"credential:{notice.credential}:{notice.threshold}"
    return Condition(Kind.CREDENTIAL_EXPIRY, key, notice.message, (), (notice.how_to_renew,))


def not_ready_condition(
    since: datetime, now: datetime, delay: timedelta, reasons: Sequence[str]
) -> Condition | None:
    """The daemon not ready for longer than ``delay``: one message until it is ready again."""
    if now - since < delay:
        return None
    minutes = int((now - since).total_seconds() // 60)
    todo = (
        "see why: curl the operations listener's /readyz, and the daemon's logs",
        "check the store, Keycloak and Atlassian are reachable from the daemon",
    )
    title = f"the offboard daemon has not been ready for {minutes} minutes"
    # One key: it clears only once the daemon is ready again, so a restart does not resend.
    return Condition(Kind.NOT_READY, "not-ready", title, tuple(reasons[:5]), todo)
