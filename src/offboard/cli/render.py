"""Rich renderings for people: the plan table, guard verdicts, the apply summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from offboard.cli.fitting import fitted_table
from offboard.core.journal import Status
from offboard.core.plan import EntryStatus, Plan, Rule
from offboard.core.printable import printable
from offboard.core.rendering import headline, is_link_row, plan_rows
from offboard.executor import ApplyReport
from offboard.executor.outcomes import Outcome

_STYLES = {"planned": "bold", "held": "yellow", "blocked": "red", "skipped": "dim"}

PLAIN_WORDS: dict[Rule, str] = {
    Rule.TEMPORARILY_LOCKED: "Keycloak shows a brute-force lockout as 'disabled'. A lockout "
    "ends by itself and is not a departure, so offboard leaves the account alone.",
    Rule.PERMANENTLY_LOCKED: "A permanent lockout is an attack signal, not an offboarding; "
    "the account stays unless permanent_lockout_is_leaver is set.",
    Rule.SERVICE_ACCOUNT: "Service-account users belong to Keycloak clients, not to people.",
    Rule.PROTECTED_PRINCIPAL: "This account is on the protected list: never touched.",
    Rule.PROTECTED_ORG_ADMIN: "Org admins are protected so offboard can never lock the org "
    "out of its own administration (policy.allow_org_admins lifts this).",
    Rule.PROTECTED_KEY_OWNER: "offboard never acts on the account that owns its own API key.",
    Rule.OUTSIDE_DOMAINS: "The account's email is on a domain offboard may not act on (not "
    "listed in policy.domains, or not verified by the org when that list is empty).",
    Rule.EMAIL_NOT_AN_ADDRESS: "This Keycloak user's email is not an address (quotes, blanks "
    "or control characters), so offboard never pairs it with an account.",
    Rule.NEVER_LINKED: "This Atlassian account was never paired with a Keycloak identity, "
    "so nobody left: it is reported for a human to look at, not acted on.",
    Rule.LEFT_BEFORE_WATCHING: "This person left before offboard was watching: their account "
    "was never linked, so offboard acts on it only when you adopt the day-one backlog "
    "(offboard apply --adopt-backlog).",
    Rule.GRACE_PERIOD: "The person is a leaver, but the grace period has not run out yet.",
    Rule.NO_ACTION_FOR_CLASS: "The policy says to report, not act, for this kind of account.",
    Rule.DISABLE_UNCONFIRMED: "'Disabled' was not confirmed by a fresh read: offboard does "
    "not act on a guess.",
    Rule.ABSENCE_UNCONFIRMED: "Missing from the list but not confirmed gone by a 404: "
    "offboard does not act on a guess.",
    Rule.AMBIGUOUS_IDENTITIES: "Several Keycloak users share this email, so offboard cannot "
    "tell whose account it is. A human must decide.",
    Rule.AMBIGUOUS_ACCOUNTS: "Several Atlassian accounts share this email, so offboard cannot "
    "tell which is the person's. A human must decide.",
    Rule.ACCOUNT_LINKED_ELSEWHERE: "The account is already paired with another Keycloak "
    "identity; offboard will not re-pair it by itself.",
    Rule.LINKED_ACCOUNT_MISSING: "The paired account vanished from a complete Atlassian read.",
    Rule.SCIM_KEY_MISSING: "The account is provisioned by an Atlassian SCIM directory; "
    "without that directory's key offboard cannot switch it off correctly.",
    Rule.NOT_MANAGEABLE: "Atlassian refuses to manage this account this way.",
    Rule.NOT_DEACTIVATED_BY_OFFBOARD: "The person is back, but offboard gives back only what "
    "it took away itself.",
    Rule.REACTIVATION_DISABLED: "The person is back; reactivation is off in the policy.",
}


REASONS_MIN_WIDTH = 160
"""Below this terminal width the reason column wraps a word per line; it is left out then."""


WIDER = "a wider terminal"
"""Where the full reasons are when the command has no option that prints them."""


def plan_table(
    plan: Plan,
    *,
    include_skipped: bool = True,
    width: int = 80,
    show_links: bool = False,
    reasons_hint: str = WIDER,
) -> Table:
    """Every action, then blocked and (optionally) skipped cases, one row each.

    The rule names the why; the full reason (Atlassian's deactivation message) is shown only
    on a terminal wide enough to read it; ``reasons_hint`` says where else (an option of
    the command showing it: ``plan --format markdown``, ``licences plan --json``). Link
    bookkeeping is counted in the title and listed only with ``show_links``.
    """
    reasons = width >= REASONS_MIN_WIDTH
    title = headline(plan)
    if not reasons:
        title += f" (full reasons: {reasons_hint})"  # an option this very command takes
    rows: list[dict[str, Text | str]] = [
        {
            "status": Text(row["status"], style=_STYLES.get(row["status"], "")),
            "action": row["kind"],
            "email": row["email"],
            "account": row["account_id"],
            "rule": row["rule"],
            **({"reason": row["reason"]} if reasons else {}),
        }
        for row in sorted(plan_rows(plan), key=_reading_order)
        if (include_skipped or row["status"] != EntryStatus.SKIPPED)
        and (show_links or not is_link_row(row))
    ]
    headers = ("status", "action", "email", "account", "rule", *(["reason"] if reasons else []))
    # At 80 columns the account id goes first (shortened, then dropped): the email and the
    # rule say who and why, and must stay whole.
    return fitted_table(title, rows, width, keep=("status", "action", "email", "rule"),
                        drop_first=("reason",), headers=headers,
                        wrap=("reason",))  # fmt: skip


_STATUS_ORDER = {"planned": 0, "blocked": 1, "skipped": 2}


def _reading_order(row: dict[str, str]) -> tuple[int, str, str, str]:
    """Actions first, then blocked, then skipped; within each, by kind, rule and email.

    The plan's own order is by identity id (stable, but it reads as random)."""
    return (_STATUS_ORDER.get(row["status"], 3), row["kind"], row["rule"], row["email"])


def guard_lines(plan: Plan) -> Group:
    """One line per tripped guard: blocked (red) or overridden (yellow), with its message."""
    lines = []
    for guard in plan.guards:
        if not guard.tripped:
            continue
        label, style = ("overridden", "yellow") if guard.overridden else ("BLOCKED", "bold red")
        lines.append(Text.assemble((f"guard {guard.name} {label}: ", style), guard.message))
    return Group(*lines)


def apply_table(
    report: ApplyReport, outcomes: Sequence[Outcome] | None = None, title: str = ""
) -> Table:
    """One row per action (``outcomes``, default all): outcome, read-back, tries, detail."""
    counts = ", ".join(f"{k}={v}" for k, v in sorted(report.counts.items()))
    table = Table(title=title or f"apply {report.run_id}: {counts}", title_justify="left")
    for column in ("outcome", "read-back", "action", "email", "account", "tries", "detail"):
        table.add_column(column, overflow="fold")
    for outcome in report.outcomes if outcomes is None else outcomes:
        good = outcome.status in (Status.SUCCEEDED, Status.VERIFIED)
        readback = outcome.readback.value if outcome.readback else ""
        table.add_row(
            Text(outcome.status.value, style="green" if good else "red"),
            Text(readback, style="green" if readback == "verified" else "red"),
            str(outcome.action.kind),
            printable(outcome.action.email or ""),
            printable(outcome.action.account_id),
            str(outcome.attempts),
            printable(outcome.detail),
        )
    return table


def explain_cases(plan: Plan, console: Console) -> None:
    """Each skipped and blocked rule once, in plain words, with how many cases it covers."""
    counts = Counter((e.status, e.rule) for e in plan.entries)
    for (status, rule), count in sorted(counts.items(), key=lambda item: (item[0][0], item[0][1])):
        words = PLAIN_WORDS.get(rule, "")
        style = "red" if status is EntryStatus.BLOCKED else "dim"
        console.print(Text.assemble((f"{status} {rule} ×{count}: ", style), words))
