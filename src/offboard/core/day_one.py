"""Day one: the people who left before offboard was watching, and the links it records.

On a new store nothing is linked yet. Most people are simply linked (bookkeeping, no
Atlassian call); but some already left: disabled in Keycloak, still active in Atlassian.
offboard never links a leaver by itself (it only acts on accounts it saw linked to a
person before they left), so they form a *backlog*, shown on every plan until a human
adopts it with :data:`ADOPT_COMMAND`, under the same rules and guards as any other plan.

Every rendering (table, Markdown, text, JSON) shows the same lines from here, so the
backlog and the command are visible at any terminal width and in every format.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from offboard.core.plan import Plan, Rule
from offboard.core.policy import ActionKind

ADOPT_COMMAND = "offboard apply --adopt-backlog"
"""The one command that adopts the backlog: a plan with the backlog linked and acted on."""


@dataclass(frozen=True, slots=True)
class DayOne:
    """Counts a reviewer needs before the rows: the backlog and the bookkeeping."""

    backlog: int
    """Leavers matched to an active account that was never linked (``left-before-watching``)."""
    adopted: int
    """Actions of this plan that adopt the backlog (``adopted-leaver``)."""
    unclaimed: int
    """Active accounts on in-scope domains that no Keycloak user claims (never acted on)."""
    new_links: int
    relinks: int
    link_updates: int
    """Stored links this plan changes (new links, emails followed, grace-period marks)."""

    @property
    def bookkeeping(self) -> int:
        return self.new_links + self.relinks


def day_one(plan: Plan) -> DayOne:
    """The day-one counts of ``plan``."""
    return DayOne(
        backlog=sum(1 for e in plan.entries if e.rule is Rule.LEFT_BEFORE_WATCHING),
        adopted=sum(1 for a in plan.actions if a.rule is Rule.ADOPTED_LEAVER),
        unclaimed=sum(
            1 for e in plan.entries if e.rule is Rule.NEVER_LINKED and e.identity_id is None
        ),
        new_links=sum(1 for a in plan.actions if a.kind is ActionKind.LINK),
        relinks=sum(1 for a in plan.actions if a.kind is ActionKind.RELINK),
        link_updates=len(plan.link_updates),
    )


def day_one_lines(plan: Plan, *, show_links: bool = False) -> list[str]:
    """Plain lines, each readable alone; the adopt command stands on a line of its own so
    that no terminal width can break it."""
    counts = day_one(plan)
    lines: list[str] = []
    if counts.backlog:
        lines += [
            f"Day one: {counts.backlog} {_people(counts.backlog)} left before offboard was "
            "watching (disabled or out of scope in Keycloak, still active in Atlassian, never "
            "linked). offboard does not act on them until you decide to adopt them, with the "
            "same rules and guards:",
            f"  {ADOPT_COMMAND}",
        ]
    if counts.adopted:
        lines.append(
            f"Adopting the day-one backlog: {counts.adopted} actions (rule adopted-leaver)."
        )
    if counts.unclaimed:
        lines.append(
            f"{counts.unclaimed} active {_accounts(counts.unclaimed)} on your domains have no "
            "Keycloak user (deleted before offboard was watching, or never in Keycloak): "
            "listed as ownership-never-linked, for a human to review; offboard does not guess."
        )
    if counts.bookkeeping or counts.link_updates:
        more = "" if show_links else " (--show-links or --format json lists them)"
        lines.append(
            f"Link bookkeeping, no Atlassian change: {counts.new_links} new links, "
            f"{counts.relinks} re-links, {counts.link_updates} link updates{more}."
        )
    return lines


def day_one_summary(plan: Plan) -> dict[str, Any]:
    """The same counts for the JSON document's summary."""
    counts = day_one(plan)
    return {
        "backlog": counts.backlog,
        "adopted": counts.adopted,
        "unclaimed_accounts": counts.unclaimed,
        "adopt_command": ADOPT_COMMAND if counts.backlog else None,
        "new_links": counts.new_links,
        "relinks": counts.relinks,
        "link_updates": counts.link_updates,
    }


def _people(n: int) -> str:
    return "person" if n == 1 else "people"


def _accounts(n: int) -> str:
    return "account" if n == 1 else "accounts"
