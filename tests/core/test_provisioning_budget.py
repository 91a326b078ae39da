"""Which budget each provisioning write spends, and how many slots."""

from __future__ import annotations

from collections import Counter

from offboard.core.budget import DEFAULT_PROVISIONING_BUDGETS, BudgetCategory, absolute_budget
from offboard.core.holds import category_of, slots_of, window_full_message
from offboard.core.policy import ActionKind
from tests.core.test_provisioning import DEVS, OPS, group, person, plan, scim_user


def test_each_provisioning_write_spends_its_own_category() -> None:
    joiner = plan([person(1, DEVS)])
    spent = {a.kind: category_of(a) for a in joiner.actions}
    assert spent == {
        ActionKind.SCIM_CREATE_USER: BudgetCategory.PROVISIONING_CREATES,
        ActionKind.SCIM_CREATE_GROUP: BudgetCategory.PROVISIONING_CREATES,
        ActionKind.SCIM_ADD_MEMBERS: None,  # adding what Keycloak says takes nothing away
    }
    renamed = plan(
        [person(1, DEVS, first_name="Ann")], [scim_user(1)], [group(DEVS, 1), group(OPS)]
    )
    assert [category_of(a) for a in renamed.actions] == [BudgetCategory.PROVISIONING_UPDATES]


def test_a_membership_removal_spends_one_slot_per_member() -> None:
    people = [person(n) for n in range(150)]  # in no group any more
    result = plan(
        people, [scim_user(n) for n in range(150)], [group(DEVS, *range(150)), group(OPS)]
    )
    removals = [a for a in result.actions if a.kind is ActionKind.SCIM_REMOVE_MEMBERS]
    assert Counter(category_of(a) for a in removals) == {
        BudgetCategory.PROVISIONING_MEMBERSHIP_REMOVALS: 2
    }
    assert [slots_of(a) for a in removals] == [100, 50]
    assert all(slots_of(a) == 1 for a in result.actions if a not in removals)


def test_provisioning_windows_are_absolute_whatever_the_linked_count() -> None:
    budget = absolute_budget(500, 2000)
    assert [limit.limit for limit in budget.limits(0)] == [500, 2000]
    assert [limit.limit for limit in budget.limits(100)] == [500, 2000]
    assert budget.limits(100)[0].why == "500 actions"
    defaults = {
        name: [w.max_actions for w in b.windows] for name, b in DEFAULT_PROVISIONING_BUDGETS.items()
    }
    assert defaults == {
        "provisioning-creates": [500, 2000],
        "provisioning-updates": [500, 2000],
        "provisioning-membership-removals": [100, 400],
    }


def test_a_full_window_of_one_is_said_in_the_singular() -> None:
    (hour, _) = absolute_budget(1, 100).limits(10)
    message = window_full_message(hour, 1, "deprovisioning")
    assert "1 deprovisioning action in the last hour, the budget is 1 (1 action);" in message
