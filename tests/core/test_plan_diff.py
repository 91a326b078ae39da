"""The differences a reviewer sees when a saved plan no longer holds."""

from __future__ import annotations

from datetime import UTC, datetime

from offboard.core.accounts import AccountId
from offboard.core.identities import IdentityId
from offboard.core.plan import Action, Entry, EntryStatus, GuardName, GuardResult, Plan, Rule
from offboard.core.plan_diff import plan_diff
from offboard.core.policy import ActionKind

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _action(n: int, kind: ActionKind = ActionKind.DEACTIVATE) -> Action:
    return Action(kind, IdentityId(f"id-{n}"), AccountId(f"acc-{n}"), f"p{n}@x.example",
                  Rule.IDENTITY_DISABLED, "why")  # fmt: skip


def _plan(*actions: Action, entries: tuple[Entry, ...] = (), blocks: bool = False) -> Plan:
    guard = GuardResult(GuardName.MAX_DEACTIVATIONS, blocks, False, "m")
    return Plan(NOW, tuple(actions), entries, (guard,), "f")


def test_added_removed_and_guard_changes_are_listed() -> None:
    saved = _plan(_action(1), _action(2))
    fresh = _plan(_action(2), _action(3), blocks=True)
    assert plan_diff(saved, fresh) == [
        "- deactivate p1@x.example (identity-disabled)",
        "+ deactivate p3@x.example (identity-disabled)",
        "~ guard max-deactivations passes → guard max-deactivations blocks",
    ]


def test_a_case_that_became_blocked_is_listed() -> None:
    entry = Entry(EntryStatus.BLOCKED, Rule.AMBIGUOUS_IDENTITIES, "r", IdentityId("id-9"),
                  None, "s@x.example")  # fmt: skip
    assert plan_diff(_plan(), _plan(entries=(entry,))) == [
        "+ blocked s@x.example (ambiguous-identities)"
    ]


def test_identical_plans_have_no_difference_and_long_diffs_are_cut() -> None:
    assert plan_diff(_plan(_action(1)), _plan(_action(1))) == []
    many = plan_diff(_plan(), _plan(*(_action(n) for n in range(30))), limit=5)
    assert len(many) == 6
    assert many[-1] == "… and 25 more differences"
