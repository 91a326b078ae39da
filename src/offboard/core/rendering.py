"""Plans as text: Markdown for review, an aligned table for logs, rows for the CLI's table.

The JSON document lives in ``plan_json``; its functions are re-exported here so callers
find every rendering in one place.
"""

from __future__ import annotations

from offboard.core.day_one import day_one, day_one_lines
from offboard.core.plan import Action, Entry, EntryStatus, Plan
from offboard.core.plan_json import PlanFormatError, plan_from_json, plan_summary, plan_to_json
from offboard.core.policy import LINK_KINDS
from offboard.core.printable import printable

__all__ = [
    "PlanFormatError",
    "headline",
    "is_link_row",
    "plan_from_json",
    "plan_rows",
    "plan_summary",
    "plan_to_json",
    "render_markdown",
    "render_text",
]

COLUMNS = ("status", "kind", "keycloak_id", "account_id", "email", "rule", "reason")
_LINK_KIND_NAMES = frozenset(str(kind) for kind in LINK_KINDS)


def plan_rows(plan: Plan) -> list[dict[str, str]]:
    """One row per action, then blocked, then skipped entries; the keys are ``COLUMNS``.

    Every value is ``printable``: these rows are for terminals and documents, and emails
    and usernames come from Keycloak profiles anyone may have edited.
    """
    rows = [_action_row(action, plan.is_blocked) for action in plan.actions]
    for status in (EntryStatus.BLOCKED, EntryStatus.SKIPPED):
        rows.extend(_entry_row(e) for e in plan.entries if e.status is status)
    return [{key: printable(value) for key, value in row.items()} for row in rows]


def _action_row(action: Action, plan_blocked: bool) -> dict[str, str]:
    return {
        "status": "held" if plan_blocked else "planned",
        "kind": str(action.kind),
        "keycloak_id": action.identity_id,
        "account_id": action.account_id,
        "email": action.email or "",
        "rule": str(action.rule),
        "reason": action.reason,
    }


def _entry_row(entry: Entry) -> dict[str, str]:
    return {
        "status": str(entry.status),
        "kind": "",
        "keycloak_id": entry.identity_id or "",
        "account_id": entry.account_id or "",
        "email": entry.email or "",
        "rule": str(entry.rule),
        "reason": entry.reason,
    }


def is_link_row(row: dict[str, str]) -> bool:
    """A row of link bookkeeping (no Atlassian call): summarised unless asked for."""
    return row["kind"] in _LINK_KIND_NAMES


def _rows(plan: Plan, show_links: bool) -> list[dict[str, str]]:
    return [r for r in plan_rows(plan) if show_links or not is_link_row(r)]


def headline(plan: Plan) -> str:
    """``plan 1a2b3c4d5e6f (ready): 3 changes in Atlassian (3 deprovisioning), 412 links to
    record, 2 blocked, 9 skipped``: links are counted apart from changes."""
    summary, counts = plan_summary(plan), day_one(plan)
    state = "BLOCKED by guards" if plan.is_blocked else "ready"
    changes = summary["actions"] - counts.bookkeeping
    return (
        f"plan {plan.fingerprint[:12]} ({state}): {_counted(changes, 'change')} in Atlassian "
        f"({summary['deprovisioning']} deprovisioning), "
        f"{_counted(counts.bookkeeping, 'link')} to record, "
        f"{summary['blocked']} blocked, {summary['skipped']} skipped"
    )


def _counted(number: int, noun: str) -> str:
    """``1 change``, ``3 changes``: the headline is read aloud in reviews and tickets."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def render_text(plan: Plan, *, show_links: bool = False) -> str:
    """A plain aligned table, fit for logs and terminals without colour."""
    lines = [headline(plan), *day_one_lines(plan, show_links=show_links)]
    lines.extend(f"  guard {g.message}" for g in plan.guards if g.tripped)
    rows = _rows(plan, show_links)
    if rows:
        columns = COLUMNS[:-1]
        widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in columns}
        lines.append("  ".join(c.upper().ljust(widths[c]) for c in columns) + "  REASON")
        lines.extend(
            "  ".join(row[c].ljust(widths[c]) for c in columns) + "  " + row["reason"]
            for row in rows
        )
    return "\n".join(lines) + "\n"


def render_markdown(plan: Plan, *, show_links: bool = False) -> str:
    """A review document: headline, day one, guards, then actions, blocked and skipped."""
    parts = [f"# offboard plan `{plan.fingerprint[:12]}`", "", headline(plan), ""]
    for line in day_one_lines(plan, show_links=show_links):
        parts += [f"`{line.strip()}`" if line.startswith("  ") else line, ""]
    parts += [f"Created {plan.created_at.isoformat()}.", "", "## Guards", ""]
    parts += ["| guard | verdict | message |", "| --- | --- | --- |"]
    for guard in plan.guards:
        verdict = "overridden" if guard.overridden else "TRIPPED" if guard.tripped else "ok"
        parts.append(f"| {guard.name} | {verdict} | {_cell(guard.message)} |")
    rows = plan_rows(plan)
    sections = [
        ("Actions", [r for r in rows if r["kind"] and not is_link_row(r)]),
        ("Blocked", [r for r in rows if r["status"] == EntryStatus.BLOCKED]),
        ("Skipped", [r for r in rows if r["status"] == EntryStatus.SKIPPED]),
    ]
    if show_links:
        sections.insert(1, ("Links", [r for r in rows if is_link_row(r)]))
    for title, section in sections:
        parts += ["", f"## {title} ({len(section)})", ""]
        if not section:
            parts.append("None.")
            continue
        parts += ["| " + " | ".join(COLUMNS) + " |", "|" + " --- |" * len(COLUMNS)]
        parts += ["| " + " | ".join(_cell(r[c]) for c in COLUMNS) + " |" for r in section]
    return "\n".join(parts) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
