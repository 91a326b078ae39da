"""What changed between two plans: the lines a reviewer needs when a saved plan is stale."""

from __future__ import annotations

from offboard.core.plan import Action, Entry, Plan


def plan_diff(saved: Plan, fresh: Plan, limit: int = 20) -> list[str]:
    """``+``/``-`` lines for actions, blocked or skipped cases and guard verdicts that differ.

    At most ``limit`` lines, then one line saying how many more there are.
    """
    lines = [
        *_changes(
            {a.key: _action_words(a) for a in saved.actions},
            {a.key: _action_words(a) for a in fresh.actions},
        ),
        *_changes(
            {_entry_key(e): _entry_words(e) for e in saved.entries},
            {_entry_key(e): _entry_words(e) for e in fresh.entries},
        ),
        *_changes(_guard_words(saved), _guard_words(fresh)),
    ]
    if not lines and saved.link_updates != fresh.link_updates:
        lines.append(f"~ link bookkeeping: {len(saved.link_updates)} → {len(fresh.link_updates)}")
    if len(lines) > limit:
        lines = [*lines[:limit], f"… and {len(lines) - limit} more differences"]
    return lines


def _changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    gone = [f"- {before[key]}" for key in sorted(before.keys() - after.keys())]
    new = [f"+ {after[key]}" for key in sorted(after.keys() - before.keys())]
    changed = [
        f"~ {before[key]} → {after[key]}"
        for key in sorted(before.keys() & after.keys())
        if before[key] != after[key]
    ]
    return [*gone, *new, *changed]


def _guard_words(plan: Plan) -> dict[str, str]:
    return {
        str(g.name): f"guard {g.name} {'blocks' if g.blocks else 'passes'}" for g in plan.guards
    }


def _action_words(action: Action) -> str:
    return f"{action.kind} {action.email or action.account_id} ({action.rule})"


def _entry_key(entry: Entry) -> str:
    return f"{entry.identity_id}:{entry.account_id}:{entry.rule}"


def _entry_words(entry: Entry) -> str:
    return f"{entry.status} {entry.email or entry.account_id or entry.identity_id} ({entry.rule})"
