"""The provisioning budgets in the store, on every backend: one category at a time, atomic,
and several slots per request (a membership removal spends one per member), all or none."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from threading import Barrier

from offboard.core.budget import WindowLimit
from offboard.core.holds import BudgetRequest, Waiting
from offboard.store import SqlStore, open_store

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HOUR = WindowLimit("hour", timedelta(hours=1), 10, "10 actions")
CREATES = "provisioning-creates"
REMOVALS = "provisioning-membership-removals"
DEPROVISIONING = "deprovisioning"


def request(
    category: str, n: int, *, slots: int = 1, kind: str = "scim_create_user"
) -> BudgetRequest:
    key = f"{kind}:id-{n}:scim-user:id-{n}"
    waiting = Waiting(key, kind, f"id-{n}", f"scim-user:id-{n}", None, T0)
    return BudgetRequest(category, waiting, f"run-{n}", T0, (HOUR,), slots=slots)


def test_fifty_concurrent_creates_against_ten_slots_grant_exactly_ten(store_url: str) -> None:
    stores = [open_store(store_url) for _ in range(5)]
    start = Barrier(50)

    def ask(n: int) -> bool:
        start.wait()
        return stores[n % 5].reserve_budget(request(CREATES, n)).granted

    try:
        with ThreadPoolExecutor(max_workers=50) as pool:
            granted = list(pool.map(ask, range(50)))
        hold = stores[0].active_hold(CREATES)
        usage = stores[0].budget_usage(CREATES, [HOUR], T0)
        # The other categories are not held: deprovisioning still spends its own budget.
        other = stores[0].reserve_budget(request(DEPROVISIONING, 99, kind="deactivate"))
        deprovisioning_hold = stores[0].active_hold(DEPROVISIONING)
    finally:
        for opened in stores:
            opened.close()
    assert sum(granted) == 10
    assert hold is not None
    assert hold.category == CREATES
    assert hold.guards == ("provisioning-budget",)
    assert len(hold.waiting) == 40
    assert "10 provisioning-creates actions in the last hour, the budget is 10" in hold.message
    assert "--category provisioning-creates" in hold.message
    assert usage[0].used == 10
    assert other.granted
    assert deprovisioning_hold is None


def test_twenty_concurrent_removals_of_three_members_spend_nine_of_ten(store_url: str) -> None:
    stores = [open_store(store_url) for _ in range(5)]
    start = Barrier(20)

    def ask(n: int) -> bool:
        start.wait()
        asked = request(REMOVALS, n, slots=3, kind="scim_remove_members")
        return stores[n % 5].reserve_budget(asked).granted

    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            granted = list(pool.map(ask, range(20)))
        usage = stores[0].budget_usage(REMOVALS, [HOUR], T0)
        hold = stores[0].active_hold(REMOVALS)
    finally:
        for opened in stores:
            opened.close()
    assert sum(granted) == 3  # 3 x 3 = 9; a fourth would need 12 > 10: all or none
    assert usage[0].used == 9
    assert hold is not None
    assert len(hold.waiting) == 17


def test_a_removal_bigger_than_the_window_waits_for_a_human(store: SqlStore) -> None:
    refused = store.reserve_budget(request(REMOVALS, 1, slots=11, kind="scim_remove_members"))
    assert not refused.granted
    assert refused.new_hold
    assert store.budget_usage(REMOVALS, [HOUR], T0)[0].used == 0
    store.release_hold(REMOVALS, "ada", "a reorganisation", T0 + timedelta(seconds=1))
    # The same action after the release is approved: it passes, and counts in no window.
    again = request(REMOVALS, 1, slots=11, kind="scim_remove_members")
    assert store.reserve_budget(again).granted
    assert store.budget_usage(REMOVALS, [HOUR], T0 + timedelta(seconds=2))[0].used == 0
