"""Day one in the planner and the renderings: the backlog, its adoption, links summarised."""

from __future__ import annotations

import json
from typing import Any

from offboard.core.day_one import ADOPT_COMMAND, day_one, day_one_lines
from offboard.core.plan import GuardName, Plan, Rule
from offboard.core.policy import ActionKind, Thresholds
from offboard.core.rendering import plan_to_json, render_markdown, render_text
from tests.core.builders import account, identity, make_plan, policy, source, target

# A new store: nobody linked. 1-3 are still here; 4 and 5 left before offboard was watching.
STAYING, GONE = (1, 2, 3), (4, 5)


def _day_one(**context: Any) -> Plan:
    people = [identity(n) for n in STAYING] + [identity(n, disabled=True) for n in GONE]
    accounts = [account(n) for n in (*STAYING, *GONE)] + [account(9)]  # 9: nobody's
    return make_plan(source(*people), target(*accounts), **context)


def test_the_backlog_is_counted_not_acted_on_and_the_links_are_bookkeeping() -> None:
    plan = _day_one()
    counts = day_one(plan)
    assert (counts.backlog, counts.adopted, counts.unclaimed) == (2, 0, 1)
    assert (counts.new_links, counts.relinks) == (3, 0)
    assert not plan.changes_atlassian
    assert plan.has_changes  # the links still get recorded
    backlog = [e for e in plan.entries if e.rule is Rule.LEFT_BEFORE_WATCHING]
    assert sorted(e.account_id for e in backlog) == ["acc-0004", "acc-0005"]


def test_adoption_links_and_deactivates_the_backlog_under_its_own_rule() -> None:
    plan = _day_one(adopt_backlog=True)
    acts = [(a.kind, a.rule, a.account_id) for a in plan.actions if a.kind is not ActionKind.LINK]
    assert sorted(acts) == [
        (ActionKind.DEACTIVATE, Rule.ADOPTED_LEAVER, "acc-0004"),
        (ActionKind.DEACTIVATE, Rule.ADOPTED_LEAVER, "acc-0005"),
    ]
    links = sorted(a.account_id for a in plan.actions if a.kind is ActionKind.LINK)
    assert links == ["acc-0001", "acc-0002", "acc-0003", "acc-0004", "acc-0005"]
    reasons = [a.reason for a in plan.deprovisioning]
    assert all("before offboard was watching (identity-disabled)" in r for r in reasons)
    assert day_one(plan).backlog == 0
    assert day_one(plan).adopted == 2


def test_adoption_goes_through_the_same_guards() -> None:
    strict = policy(thresholds=Thresholds(max_deactivations=1))
    people = [identity(n, disabled=True) for n in GONE]
    plan = make_plan(source(*people), target(*(account(n) for n in GONE)), pol=strict,
                     adopt_backlog=True)  # fmt: skip
    assert [g.name for g in plan.blocked_by] == [GuardName.MAX_DEACTIVATIONS]


def test_every_rendering_carries_the_backlog_and_the_command() -> None:
    plan = _day_one()
    lines = day_one_lines(plan)
    assert f"  {ADOPT_COMMAND}" in lines
    for rendered in (render_text(plan), render_markdown(plan)):
        assert "2 people left before offboard was watching" in rendered
        assert ADOPT_COMMAND in rendered
        assert "3 new links" in rendered
    summary = json.loads(plan_to_json(plan))["summary"]["day_one"]
    assert summary == {
        "backlog": 2,
        "adopted": 0,
        "unclaimed_accounts": 1,
        "adopt_command": ADOPT_COMMAND,
        "new_links": 3,
        "relinks": 0,
        "link_updates": 3,
    }


def test_links_are_listed_only_when_asked() -> None:
    plan = _day_one()
    assert "| planned | link |" not in render_markdown(plan)
    assert render_markdown(plan, show_links=True).count("| planned | link |") == 3
    assert "## Links (3)" in render_markdown(plan, show_links=True)


def test_a_plan_with_nothing_left_behind_says_nothing_about_day_one() -> None:
    plan = make_plan(source(identity(1)), target(account(1)))
    assert day_one_lines(plan) == [
        "Link bookkeeping, no Atlassian change: 1 new links, 0 re-links, 1 link updates "
        "(--show-links or --format json lists them)."
    ]
