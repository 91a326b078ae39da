"""Plans as text: Markdown for review, an aligned table for logs, rows for the CLI's table.

The JSON document lives in ``plan_json``; its functions are re-exported here so callers
find every rendering in one place.
"""

from __future__ import annotations

from offboard.core.plan import Action, Entry, EntryStatus, Plan
from offboard.core.plan_json import PlanFormatError, plan_from_json, plan_summary, plan_to_json
from offboard.core.printable import printable

__all__ = [
    "PlanFormatError",
    "plan_from_json",
    "plan_rows",
    "plan_summary",
    "plan_to_json",
    "render_markdown",
    "render_text",
]

COLUMNS = ("status", "kind", "keycloak_id", "account_id", "email", "rule", "reason")


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


def _headline(plan: Plan) -> str:
    summary = plan_summary(plan)
    state = "BLOCKED by guards" if plan.is_blocked else "ready"
    return (
        f"plan {plan.fingerprint[:12]} ({state}): {summary['actions']} actions "
        f"({summary['deprovisioning']} deprovisioning), {summary['blocked']} blocked, "
        f"{summary['skipped']} skipped"
    )


def render_text(plan: Plan) -> str:
    """A plain aligned table, fit for logs and terminals without colour."""
    lines = [_headline(plan)]
    lines.extend(f"  guard {g.message}" for g in plan.guards if g.tripped)
    rows = plan_rows(plan)
    if rows:
        columns = COLUMNS[:-1]
        widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in columns}
        lines.append("  ".join(c.upper().ljust(widths[c]) for c in columns) + "  REASON")
        lines.extend(
            "  ".join(row[c].ljust(widths[c]) for c in columns) + "  " + row["reason"]
            for row in rows
        )
    return "\n".join(lines) + "\n"


def render_markdown(plan: Plan) -> str:
    """A review document: headline, guards, then actions, blocked and skipped tables."""
    parts = [f"# offboard plan `{plan.fingerprint[:12]}`", "", _headline(plan), ""]
    parts += [f"Created {plan.created_at.isoformat()}.", "", "## Guards", ""]
    parts += ["| guard | verdict | message |", "| --- | --- | --- |"]
    for guard in plan.guards:
        verdict = "overridden" if guard.overridden else "TRIPPED" if guard.tripped else "ok"
        parts.append(f"| {guard.name} | {verdict} | {_cell(guard.message)} |")
    sections = (
        ("Actions", [r for r in plan_rows(plan) if r["kind"]]),
        ("Blocked", [r for r in plan_rows(plan) if r["status"] == EntryStatus.BLOCKED]),
        ("Skipped", [r for r in plan_rows(plan) if r["status"] == EntryStatus.SKIPPED]),
    )
    for title, rows in sections:
        parts += ["", f"## {title} ({len(rows)})", ""]
        if not rows:
            parts.append("None.")
            continue
        parts += ["| " + " | ".join(COLUMNS) + " |", "|" + " --- |" * len(COLUMNS)]
        parts += ["| " + " | ".join(_cell(r[c]) for c in COLUMNS) + " |" for r in rows]
    if plan.link_updates:
        parts += ["", f"Link bookkeeping: {len(plan.link_updates)} link updates."]
    return "\n".join(parts) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
