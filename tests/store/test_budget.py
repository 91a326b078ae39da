"""The budget and the hold in the store, on every backend: atomic, counted, released.

The concurrency tests open several stores on one database (as separate processes or
replicas would) and let 50 threads ask for a slot at once.
"""

from __future__ import annotations

import dataclasses
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from threading import Barrier

import pytest
from sqlalchemy import event, select

from offboard.core.budget import Budget, BudgetWindow, WindowLimit
from offboard.core.holds import Admission, BudgetRequest, Waiting
from offboard.core.journal import JournalRecord, Phase, Status
from offboard.ports import Fence, FenceLostError, NoHoldError
from offboard.store import SqlStore, open_store
from offboard.store.schema import budget_locks

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
HOUR = WindowLimit("hour", timedelta(hours=1), 10, "10 actions")
CATEGORY = "deprovisioning"


def request(n: int, at: datetime = T0, *, approved: bool = False) -> BudgetRequest:
    waiting = Waiting(f"deactivate:id-{n}:acc-{n}", "deactivate", f"id-{n}", f"acc-{n}", None, at)
    return BudgetRequest(CATEGORY, waiting, f"run-{n}", at, (HOUR,), approved)


def test_fifty_concurrent_reservations_against_ten_slots_grant_exactly_ten(
    store_url: str,
) -> None:
    stores = [open_store(store_url) for _ in range(5)]
    start = Barrier(50)

    def ask(n: int) -> bool:
        start.wait()
        return stores[n % 5].reserve_budget(request(n)).granted

    try:
        with ThreadPoolExecutor(max_workers=50) as pool:
            granted = list(pool.map(ask, range(50)))
        hold = stores[0].active_hold(CATEGORY)
        usage = stores[0].budget_usage(CATEGORY, [HOUR], T0)
    finally:
        for opened in stores:
            opened.close()
    assert sum(granted) == 10
    assert hold is not None
    assert hold.guards == ("deprovisioning-budget",)
    assert len(hold.waiting) == 40
    assert {w.identity_id for w in hold.waiting} == {
        f"id-{n}" for n, ok in enumerate(granted) if not ok
    }
    assert "10 deprovisioning actions in the last hour, the budget is 10" in hold.message
    assert usage[0].used == 10
    assert usage[0].left == 0


def test_a_batch_of_reservations_gets_the_verdicts_of_one_at_a_time(store_url: str) -> None:
    """Twelve in one transaction against ten slots: ten granted, the eleventh puts the hold,
    the twelfth joins it, exactly as twelve transactions in a row would."""
    store = open_store(store_url)
    try:
        verdicts = store.reserve_budgets([request(n) for n in range(12)])
        hold = store.active_hold(CATEGORY)
    finally:
        store.close()
    assert [v.granted for v in verdicts] == [True] * 10 + [False, False]
    assert verdicts[10].new_hold
    assert not verdicts[11].new_hold
    assert verdicts[10].hold_id == verdicts[11].hold_id
    assert hold is not None
    assert {w.identity_id for w in hold.waiting} == {"id-10", "id-11"}


def test_a_replaced_leader_spends_no_slot(store: SqlStore) -> None:
    hour = timedelta(hours=1)
    assert store.acquire_lease("daemon", "paused", hour, T0)
    token = store.lease_token("daemon", "paused", T0)
    assert token is not None
    old = Fence("daemon", "paused", token)
    assert store.acquire_lease("daemon", "successor", hour, T0 + 2 * hour)
    with pytest.raises(FenceLostError):
        store.reserve_budgets([request(1)], fence=old)
    assert store.budget_usage(CATEGORY, [HOUR], T0)[0].used == 0


def test_concurrent_batches_and_single_reservations_still_grant_exactly_ten(
    store_url: str,
) -> None:
    stores = [open_store(store_url) for _ in range(5)]
    start = Barrier(10)

    def ask(n: int) -> int:
        start.wait()
        batch = [request(10 * n + k) for k in range(5)]
        return sum(v.granted for v in stores[n % 5].reserve_budgets(batch))

    try:
        with ThreadPoolExecutor(max_workers=10) as pool:
            granted = sum(pool.map(ask, range(10)))
    finally:
        for opened in stores:
            opened.close()
    assert granted == 10


def test_the_window_slides_and_a_hold_stops_everything_until_released(store: SqlStore) -> None:
    for n in range(10):
        assert store.reserve_budget(request(n)).granted
    refused = store.reserve_budget(request(10))
    assert not refused.granted
    assert refused.new_hold
    # An hour later the window is empty again, but the hold still stops deprovisioning.
    later = T0 + timedelta(hours=1, seconds=1)
    again = store.reserve_budget(request(11, later))
    assert not again.granted
    assert not again.new_hold
    assert again.hold_id == refused.hold_id
    released = store.release_hold(CATEGORY, "ada", "checked with HR", later)
    assert released.released_by == "ada"
    assert released.release_reason == "checked with HR"
    assert [w.identity_id for w in released.waiting] == ["id-10", "id-11"]
    assert store.active_hold(CATEGORY) is None
    assert store.reserve_budget(request(12, later)).granted
    with pytest.raises(NoHoldError):
        store.release_hold(CATEGORY, "ada", "again", later)


def test_a_release_starts_the_windows_afresh_and_approved_slots_do_not_count(
    store: SqlStore,
) -> None:
    for n in range(11):
        store.reserve_budget(request(n))
    store.release_hold(CATEGORY, "ada", "a reorganisation", T0 + timedelta(minutes=1))
    after = T0 + timedelta(minutes=2)
    for n in range(20, 40):
        assert store.reserve_budget(request(n, after, approved=True)).granted
    assert store.budget_usage(CATEGORY, [HOUR], after)[0].used == 0
    granted = [store.reserve_budget(request(n, after)).granted for n in range(40, 52)]
    assert granted == [True] * 10 + [False] * 2


def test_a_blocked_plan_joins_the_active_hold_with_its_people(store: SqlStore) -> None:
    people = [request(n).waiting for n in range(3)]
    first, new = store.hold_plan(CATEGORY, ["max-deactivations"], "30 > 25", T0, people)
    assert new
    second, new_again = store.hold_plan(CATEGORY, ["source-count-drop"], "drop", T0, people[:1])
    assert (second, new_again) == (first, False)
    hold = store.active_hold(CATEGORY)
    assert hold is not None
    assert hold.guards == ("max-deactivations",)
    assert hold.people == ("id-0", "id-1", "id-2")


def test_percent_limits_apply_from_the_minimum_population() -> None:
    budget = Budget((BudgetWindow("hour", timedelta(hours=1), 25, 10.0),), min_population=50)
    assert [limit.limit for limit in budget.limits(49)] == [25]
    assert [limit.limit for limit in budget.limits(100)] == [10]
    assert budget.limits(100)[0].why == "10% of 100 linked accounts"
    assert [limit.limit for limit in budget.limits(1000)] == [25]


def test_a_share_of_no_linked_accounts_does_not_stop_everything() -> None:
    budget = Budget((BudgetWindow("hour", timedelta(hours=1), 25, 10.0),), min_population=0)
    assert [limit.limit for limit in budget.limits(0)] == [25]


def test_people_of_a_released_hold_are_approved_whichever_path_sends_them(
    store: SqlStore,
) -> None:
    for n in range(11):
        store.reserve_budget(request(n))
    later = T0 + timedelta(minutes=5)
    store.release_hold(CATEGORY, "ada", "reviewed", later - timedelta(seconds=1))
    for n in range(10, 21):  # 10 waited on the hold; 11..20 are new leavers
        store.reserve_budget(request(n, later))
    assert store.budget_usage(CATEGORY, [HOUR], later)[0].used == 10  # 10 was approved
    assert store.active_hold(CATEGORY) is None


def test_a_release_older_than_the_longest_window_approves_no_one(store: SqlStore) -> None:
    """Whoever waited on a hold released longer ago than the longest window spends a slot
    that counts, like anyone else (the batch does not even look such releases up)."""
    for n in range(11):
        store.reserve_budget(request(n))
    store.release_hold(CATEGORY, "ada", "reviewed", T0 + timedelta(minutes=1))
    within = T0 + timedelta(minutes=59)
    assert store.reserve_budget(request(10, within)).granted  # approved: not counted
    assert store.budget_usage(CATEGORY, [HOUR], within)[0].used == 0
    later = T0 + timedelta(hours=3)
    waited_too = dataclasses.replace(request(10, later), run_id="run-again")
    assert store.reserve_budget(waited_too).granted
    assert store.budget_usage(CATEGORY, [HOUR], later)[0].used == 1  # counted this time


def intent(n: int) -> JournalRecord:
    return JournalRecord(
        at=T0,
        run_id="run",
        action_key=f"deactivate:id-{n}:acc-{n}",
        phase=Phase.INTENT,
        status=Status.PENDING,
        fingerprint="plan",
    )


def test_an_admission_journals_the_intent_of_each_granted_slot_only(store: SqlStore) -> None:
    """Ten slots: the ten granted intents are journaled with their slots, the eleventh is
    held and journals none; an admission that asks no slot is let through with its intent."""
    admissions = [Admission(request(n), intent(n)) for n in range(11)]
    verdicts = store.admit([*admissions, Admission(None, intent(99))])
    assert [v.granted for v in verdicts] == [True] * 10 + [False, True]
    assert [r.action_key for r in store.journal()] == [
        intent(n).action_key for n in [*range(10), 99]
    ]
    assert store.budget_usage(CATEGORY, [HOUR], T0)[0].used == 10


def test_a_batch_of_admissions_makes_the_same_few_statements_whatever_its_size(
    store: SqlStore,
) -> None:
    """Fenced, two windows, an old release: one statement each for the fence, the lock,
    the hold and last release, the window counts, the window edges, the spent slots and
    the intents. The apply's one writer runs a batch for every few actions it sends."""
    later = T0 + timedelta(days=2)
    assert store.acquire_lease("daemon", "me", timedelta(hours=1), later)
    fence = Fence("daemon", "me", store.lease_token("daemon", "me", later))
    for n in range(100, 111):
        store.reserve_budget(request(n))
    store.release_hold(CATEGORY, "ada", "an old hold", T0)
    hour = WindowLimit("hour", timedelta(hours=1), 1000, "1000 actions")
    day = WindowLimit("day", timedelta(days=1), 1000, "1000 actions")
    statements: list[str] = []

    def count(*event_args: object) -> None:
        statements.append(str(event_args[2]))

    event.listen(store.engine, "before_cursor_execute", count)
    made = []
    for size in (2, 20):
        statements.clear()
        at = later + timedelta(minutes=size)
        batch = [
            Admission(dataclasses.replace(request(n, at), limits=(hour, day)), intent(n))
            for n in range(size)
        ]
        verdicts = store.admit(batch, fence=fence, now=at)
        assert all(v.granted for v in verdicts)
        made.append(len(statements))
    assert made == [7, 7], statements


@pytest.mark.parametrize("successor", [True, False], ids=["taken over", "ran out"])
def test_a_lost_or_expired_lease_admits_nothing(store: SqlStore, successor: bool) -> None:
    hour = timedelta(hours=1)
    assert store.acquire_lease("daemon", "paused", hour, T0)
    token = store.lease_token("daemon", "paused", T0)
    assert token is not None
    fence = Fence("daemon", "paused", token)
    if successor:
        assert store.acquire_lease("daemon", "successor", hour, T0 + 2 * hour)
    # Without ``now`` only a take-over is seen; with it, a lease past its end is too.
    with pytest.raises(FenceLostError):
        store.admit([Admission(request(1), intent(1))], fence=fence, now=T0 + 2 * hour)
    assert store.journal() == []
    assert store.budget_usage(CATEGORY, [HOUR], T0)[0].used == 0
    if not successor:
        assert store.admit([Admission(request(1), intent(1))], fence=fence)[0].granted


DAY = WindowLimit("day", timedelta(days=1), 24, "24 actions")


def _history(store: SqlStore) -> None:
    """Slots spent over the last day, a hold a human released half an hour ago (people 3
    and 4 waited on it), and an approved slot since, which does not count."""
    both = (HOUR, DAY)
    for n in range(6):
        store.reserve_budget(dataclasses.replace(request(n, T0 - timedelta(hours=5)), limits=both))
    two_hours_ago = T0 - timedelta(hours=2)
    for n in range(6, 18):  # the eleventh puts a hold, the twelfth joins it
        store.reserve_budget(dataclasses.replace(request(n, two_hours_ago), limits=both))
    store.release_hold(CATEGORY, "ada", "reviewed", T0 - timedelta(minutes=30))
    store.reserve_budget(request(16, T0 - timedelta(minutes=20), approved=True))
    # One slot two seconds after those: exactly an hour before some requests of a batch.
    store.reserve_budget(request(21, T0 - timedelta(minutes=10) + timedelta(seconds=2)))
    for n in range(18, 21):
        store.reserve_budget(
            dataclasses.replace(request(n, T0 - timedelta(minutes=10)), limits=both)
        )


@pytest.mark.parametrize("seed", range(8))
def test_a_batch_gets_exactly_the_verdicts_of_one_transaction_each(
    tmp_path: Path, seed: int
) -> None:
    """Random batches (times a few seconds apart at window edges, two windows, multi-slot,
    approved, people a released hold let through) on two stores with the same history:
    in one transaction, then one request per transaction. Verdicts and what is left in the
    store are the same."""
    chance = random.Random(seed)
    # At 50 minutes, the history's last slots are exactly an hour before some requests.
    start = T0 + timedelta(minutes=[0, 10, 30, 50][seed % 4])
    batch = [
        BudgetRequest(
            CATEGORY,
            request(n).waiting,
            "run",
            start + timedelta(seconds=chance.randint(0, 3)),
            (HOUR, DAY) if chance.random() < 0.8 else (DAY,),
            chance.random() < 0.1,
            chance.choice([1, 1, 1, 2, 3]),
        )
        for n in chance.sample(range(40), 14)
    ]
    stores = [open_store(tmp_path / name / "offboard.sqlite3") for name in ("batch", "one")]
    try:
        for store in stores:
            _history(store)
        together = stores[0].reserve_budgets(batch)
        apart = [stores[1].reserve_budget(one) for one in batch]
        left = [
            (s.budget_usage(CATEGORY, [HOUR, DAY], start), s.active_hold(CATEGORY)) for s in stores
        ]
    finally:
        for store in stores:
            store.close()
    assert together == apart
    assert left[0] == left[1]
    assert any(v.granted for v in together)
    assert not all(v.granted for v in together)


def test_a_slot_spent_exactly_one_window_before_a_request_is_out_of_its_window(
    store: SqlStore,
) -> None:
    """In one batch a second apart: nine slots spent at T0 + 1 s count for the first request
    (its hour starts at T0) and are out for the second (its hour starts at T0 + 1 s, and a
    window holds what was spent after its start)."""
    for n in range(9):
        assert store.reserve_budget(request(n, T0 + timedelta(seconds=1))).granted
    hour_later = T0 + timedelta(hours=1)
    batch = [
        request(10, hour_later),
        *(request(n, hour_later + timedelta(seconds=1)) for n in (11, 12)),
    ]
    assert [v.granted for v in store.reserve_budgets(batch)] == [True, True, True]
    assert store.budget_usage(CATEGORY, [HOUR], hour_later + timedelta(seconds=1))[0].used == 3


def test_a_lock_row_gone_after_it_was_seen_is_put_back_by_the_next_reservation(
    store: SqlStore,
) -> None:
    assert store.reserve_budget(request(1)).granted
    assert CATEGORY in store.lock_rows_seen  # not looked up again
    with store.engine.begin() as connection:
        connection.execute(budget_locks.delete())
    assert store.reserve_budget(request(2)).granted
    with store.engine.connect() as connection:
        assert connection.scalar(select(budget_locks.c.reservations)) == 1
    assert store.budget_usage(CATEGORY, [HOUR], T0)[0].used == 2
