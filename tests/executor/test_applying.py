"""apply_plan: journal order, retries, refusals, idempotency, links and read-back."""

from __future__ import annotations

import pytest

from offboard.core.accounts import AccountStatus
from offboard.core.journal import Phase, Status
from offboard.core.links import Link
from offboard.core.plan import GuardName
from offboard.core.policy import ActionKind
from offboard.executor import PlanBlockedError, RetryPolicy, apply_plan
from offboard.ports import NotManageableError, PermanentError, TemporaryError
from offboard.store import SqlStore
from tests.executor.fakes import T0, FakeClock, FakeDirectory, account, action, plan_of, tripped


class Sleeps:
    """Records waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def _phases(store: SqlStore, key: str) -> list[tuple[Phase, Status]]:
    return [(r.phase, r.status) for r in store.journal() if r.action_key == key]


async def test_a_deactivation_is_journaled_before_and_after(
    store: SqlStore, clock: FakeClock
) -> None:
    directory = FakeDirectory({"acc-1": account(1)})
    store.upsert_links([Link(action(1).identity_id, action(1).account_id, "user1@example.com", T0)])
    report = await apply_plan(
        plan_of(action(1)), directory=directory, store=store, clock=clock, run_id="r1"
    )
    assert _phases(store, action(1).key) == [
        (Phase.INTENT, Status.PENDING),
        (Phase.ATTEMPT, Status.SUCCEEDED),
        (Phase.OUTCOME, Status.SUCCEEDED),
        (Phase.READBACK, Status.VERIFIED),
    ]
    assert report.all_done
    assert report.counts["succeeded"] == 1
    assert directory.accounts["acc-1"].status is AccountStatus.INACTIVE
    (link,) = store.links()
    assert link.deactivated_by_offboard
    assert link.deactivation_kind == "deactivate"
    assert {r.fingerprint for r in store.journal()} == {"fp-1"}


async def test_temporary_errors_are_retried_honouring_retry_after(
    store: SqlStore, clock: FakeClock
) -> None:
    failures: list[Exception] = [
        TemporaryError("429 too many requests", retry_after=7.0, status=429),
        TemporaryError("503", status=503),
    ]
    directory = FakeDirectory({"acc-1": account(1)}, failures={"acc-1": failures})
    sleeps = Sleeps()
    report = await apply_plan(
        plan_of(action(1)),
        directory=directory,
        store=store,
        clock=clock,
        run_id="r1",
        retry=RetryPolicy(base_delay=0.5, sleep=sleeps),
    )
    assert sleeps.waits == [7.0, 1.0]
    assert report.outcomes[0].attempts == 3
    attempts = [(r.status, r.http_status) for r in store.journal() if r.phase is Phase.ATTEMPT]
    assert attempts == [(Status.RETRYING, 429), (Status.RETRYING, 503), (Status.SUCCEEDED, 204)]


async def test_failures_are_recorded_and_the_rest_of_the_plan_goes_on(
    store: SqlStore, clock: FakeClock
) -> None:
    failures: dict[str, list[Exception]] = {
        "acc-1": [TemporaryError("503", status=503)] * 3,
        "acc-2": [NotManageableError("refused", reason_key="account-is-managed-by-google")],
        "acc-3": [PermanentError("409 not eligible", status=409)],
        "acc-4": [RuntimeError("token=secret123 leaked in a message")],
    }
    accounts = {f"acc-{n}": account(n) for n in range(1, 6)}
    directory = FakeDirectory(accounts, failures=failures)
    report = await apply_plan(
        plan_of(*(action(n) for n in range(1, 6))),
        directory=directory,
        store=store,
        clock=clock,
        run_id="r1",
        retry=RetryPolicy(attempts=3, sleep=Sleeps()),
    )
    statuses = [outcome.status for outcome in report.outcomes]
    assert statuses == [
        Status.FAILED,
        Status.BLOCKED,
        Status.FAILED,
        Status.FAILED,
        Status.SUCCEEDED,
    ]
    assert "gave up after 3 attempts" in report.outcomes[0].detail
    assert report.outcomes[1].detail.startswith("account-is-managed-by-google")
    assert report.outcomes[2].http_status == 409
    assert "secret123" not in str(store.journal())
    assert not report.all_done
    assert store.unfinished() == []


async def test_a_blocked_plan_is_refused_unless_overridden(
    store: SqlStore, clock: FakeClock
) -> None:
    directory = FakeDirectory({"acc-1": account(1)})
    blocked = plan_of(action(1), guards=(tripped(),))
    with pytest.raises(PlanBlockedError, match="blocked"):
        await apply_plan(blocked, directory=directory, store=store, clock=clock, run_id="r1")
    assert directory.sent == []
    notes = [r.detail.split(":")[0] for r in store.journal()]
    assert notes == ["guard refused", "hold put by a blocked plan (1 waiting)"]
    held = store.active_hold("deprovisioning")
    assert held is not None
    assert held.guards == ("max-deactivations",)
    assert held.people == (action(1).identity_id,)

    report = await apply_plan(
        blocked,
        directory=directory,
        store=store,
        clock=clock,
        run_id="r2",
        overrides=frozenset({GuardName.MAX_DEACTIVATIONS}),
    )
    assert report.overridden == ("max-deactivations",)
    assert directory.sent == [action(1).key]
    assert store.active_hold("deprovisioning") is None  # the journaled override released it
    assert any(r.action_key == f"hold-release:{held.id}" for r in store.journal())


async def test_an_action_done_under_the_same_plan_is_never_sent_again(
    store: SqlStore, clock: FakeClock
) -> None:
    directory = FakeDirectory({"acc-1": account(1), "acc-2": account(2)})
    plan = plan_of(action(1), action(2))
    await apply_plan(plan, directory=directory, store=store, clock=clock, run_id="r1")
    again = await apply_plan(plan, directory=directory, store=store, clock=clock, run_id="r2")
    assert sorted(directory.sent) == [action(1).key, action(2).key]
    assert [o.status for o in again.outcomes] == [Status.VERIFIED, Status.VERIFIED]
    assert again.all_done


async def test_links_are_saved_before_any_request(store: SqlStore, clock: FakeClock) -> None:
    old = Link(action(2).identity_id, action(2).account_id, "old@example.com", T0)
    store.upsert_links([old])
    grace = Link(
        action(3).identity_id, action(3).account_id, "u3@example.com", T0, leaving_since=T0
    )
    plan = plan_of(
        action(1, ActionKind.LINK),
        action(2, ActionKind.RELINK),
        action(1),
        link_updates=(grace,),
    )
    directory = FakeDirectory({"acc-1": account(1)})
    report = await apply_plan(plan, directory=directory, store=store, clock=clock, run_id="r1")
    assert report.links_saved == 3
    links = {link.identity_id: link for link in store.links()}
    assert links[action(2).identity_id].email == "user2@example.com"
    assert links[action(3).identity_id] == grace
    assert links[action(1).identity_id].deactivated_by_offboard
    kinds = [(r.kind, r.phase) for r in store.journal()]
    assert kinds[:3] == [
        ("link", Phase.OUTCOME),
        ("relink", Phase.OUTCOME),
        ("deactivate", Phase.INTENT),
    ]


async def test_a_write_that_did_not_stick_is_a_read_back_mismatch(
    store: SqlStore, clock: FakeClock
) -> None:
    directory = FakeDirectory({"acc-1": account(1)}, ignore_writes=frozenset({"acc-1"}))
    report = await apply_plan(
        plan_of(action(1)), directory=directory, store=store, clock=clock, run_id="r1"
    )
    assert report.outcomes[0].readback is Status.MISMATCH
    assert report.counts["readback_mismatch"] == 1
    assert not report.all_done


async def test_concurrency_is_bounded_and_progress_reported(
    store: SqlStore, clock: FakeClock
) -> None:
    directory = FakeDirectory({f"acc-{n}": account(n) for n in range(12)}, latency=0.05)
    seen: list[tuple[int, int | None]] = []
    report = await apply_plan(
        plan_of(*(action(n) for n in range(12))),
        directory=directory,
        store=store,
        clock=clock,
        run_id="r1",
        concurrency=3,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert 1 < directory.most_in_flight <= 3
    assert seen[-1] == (12, 12)
    assert len(report.outcomes) == 12


async def test_actions_on_one_account_run_in_plan_order(store: SqlStore, clock: FakeClock) -> None:
    directory = FakeDirectory({"acc-1": account(1)})
    plan = plan_of(action(1, ActionKind.SUSPEND), action(1, ActionKind.DEACTIVATE))
    await apply_plan(
        plan, directory=directory, store=store, clock=clock, run_id="r1", concurrency=4
    )
    assert directory.sent == [action(1, ActionKind.SUSPEND).key, action(1).key]
    assert directory.accounts["acc-1"].status is AccountStatus.INACTIVE


async def test_an_override_of_the_hold_for_one_person_leaves_the_others_waiting(
    store: SqlStore, clock: FakeClock
) -> None:
    directory = FakeDirectory({f"acc-{n}": account(n) for n in (1, 2, 3)})
    blocked = plan_of(action(1), action(2), action(3), guards=(tripped(),))
    with pytest.raises(PlanBlockedError):
        await apply_plan(blocked, directory=directory, store=store, clock=clock, run_id="r1")
    one = plan_of(action(2), fingerprint="fp-one")
    report = await apply_plan(one, directory=directory, store=store, clock=clock, run_id="r2")
    assert report.held[0].action.key == action(2).key  # the hold stops it
    assert directory.sent == []
    overrides = frozenset({GuardName.MAX_DEACTIVATIONS})
    await apply_plan(
        one, directory=directory, store=store, clock=clock, run_id="r3", overrides=overrides
    )
    assert directory.sent == [action(2).key]
    hold = store.active_hold("deprovisioning")
    assert hold is not None  # still there for the two others
    assert set(hold.people) == {action(1).identity_id, action(3).identity_id}
