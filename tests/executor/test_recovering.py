"""recover: unfinished intents are settled by reading the account; nothing is lost or doubled."""

from __future__ import annotations

import asyncio
import contextlib

from offboard.core.accounts import Account
from offboard.core.journal import Phase, Status
from offboard.core.plan import Action
from offboard.executor import apply_plan, recover
from offboard.executor.readback import ReadBackPolicy
from offboard.executor.records import action_record
from offboard.ports import OperationResult
from offboard.store import SqlStore
from tests.executor.fakes import FakeClock, FakeDirectory, account, action, plan_of, wanted


def _crashed_after_intent(store: SqlStore, clock: FakeClock, n: int) -> None:
    """What a process killed between INTENT and OUTCOME leaves in the journal."""
    store.append(
        action_record(
            action(n),
            at=clock.now(),
            run_id="crashed",
            fingerprint="fp-1",
            phase=Phase.INTENT,
            status=Status.PENDING,
        )
    )


async def test_recovery_settles_each_unfinished_intent_by_reading_the_account(
    store: SqlStore, clock: FakeClock
) -> None:
    done = wanted(account(1), action(1).kind)  # the request reached Atlassian before the crash
    directory = FakeDirectory({"acc-1": done, "acc-2": account(2)})
    _crashed_after_intent(store, clock, 1)
    _crashed_after_intent(store, clock, 2)

    outcomes = await recover(directory=directory, store=store, clock=clock)

    assert [(o.key, o.status) for o in outcomes] == [
        (action(1).key, Status.VERIFIED),
        (action(2).key, Status.PENDING),
    ]
    assert store.unfinished() == []
    recovered = [r for r in store.journal() if r.phase is Phase.RECOVERED]
    assert [r.run_id for r in recovered] == ["crashed", "crashed"]
    assert [link.deactivated_by_offboard for link in store.links()] == [True]

    report = await apply_plan(
        plan_of(action(1), action(2)), directory=directory, store=store, clock=clock, run_id="r2"
    )
    assert directory.sent == [action(2).key]  # done before the crash: never sent again
    assert report.all_done


async def test_an_account_that_cannot_be_read_stays_unfinished(
    store: SqlStore, clock: FakeClock
) -> None:
    class Unreachable(FakeDirectory):
        async def read_account(self, account_id: str) -> None:
            raise OSError("connection refused")

    _crashed_after_intent(store, clock, 1)
    outcomes = await recover(directory=Unreachable({}), store=store, clock=clock)
    assert [o.status for o in outcomes] == [Status.PENDING]
    assert "not settled" in outcomes[0].detail
    assert len(store.unfinished()) == 1


async def test_recovery_waits_for_a_write_that_does_not_show_yet(
    store: SqlStore, clock: FakeClock
) -> None:
    """Atlassian's reads lag its writes: the first read after a crash may show the account
    as it was. Recovery reads again before calling the action not done (issue 12, point 4)."""
    done = wanted(account(1), action(1).kind)

    class Lagging(FakeDirectory):
        reads = 0

        async def read_account(self, account_id: str) -> Account | None:
            self.reads += 1
            return account(1) if self.reads < 3 else done

    slept: list[float] = []

    async def no_wait(seconds: float) -> None:
        slept.append(seconds)

    directory = Lagging({"acc-1": done})
    _crashed_after_intent(store, clock, 1)
    outcomes = await recover(
        directory=directory, store=store, clock=clock, patience=ReadBackPolicy(sleep=no_wait)
    )
    assert [o.status for o in outcomes] == [Status.VERIFIED]
    assert slept == [0.25, 0.5]


async def test_an_apply_in_flight_in_this_process_is_not_taken_for_a_crash(
    store: SqlStore, clock: FakeClock
) -> None:
    """Waves run side by side in the daemon: a wave starting while another one sends must
    not read the other's accounts by id nor journal RECOVERED for actions still in flight
    (a 3,000-person wave spent 52 reads by id that way, issue 18)."""
    sending, release = asyncio.Event(), asyncio.Event()

    class Slow(FakeDirectory):
        reads = 0

        async def execute(self, action: Action) -> OperationResult:
            sending.set()
            await release.wait()
            return await super().execute(action)

        async def read_account(self, account_id: str) -> Account | None:
            self.reads += 1
            return await super().read_account(account_id)

    directory = Slow({"acc-1": account(1)})
    applying = asyncio.create_task(
        apply_plan(plan_of(action(1)), directory=directory, store=store, clock=clock, run_id="r1")
    )
    await sending.wait()  # the intent is journaled; the send waits
    assert len(store.unfinished()) == 1

    assert await recover(directory=directory, store=store, clock=clock) == []
    assert directory.reads == 0

    release.set()
    report = await applying
    assert report.all_done
    assert not [r for r in store.journal() if r.phase is Phase.RECOVERED]


async def test_a_run_of_this_process_that_ended_unsettled_is_recovered(
    store: SqlStore, clock: FakeClock
) -> None:
    """Only runs in flight are left alone: once an apply ended (here: cancelled mid-send),
    its unfinished intents are recovered as after a crash."""

    sending = asyncio.Event()

    class Stuck(FakeDirectory):
        async def execute(self, action: Action) -> OperationResult:
            sending.set()
            await asyncio.Event().wait()
            raise AssertionError("never sent")

    directory = Stuck({"acc-1": account(1)})
    applying = asyncio.create_task(
        apply_plan(plan_of(action(1)), directory=directory, store=store, clock=clock, run_id="r1")
    )
    await sending.wait()
    applying.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await applying

    outcomes = await recover(
        directory=directory, store=store, clock=clock, patience=ReadBackPolicy(attempts=1)
    )
    assert [(o.key, o.status) for o in outcomes] == [(action(1).key, Status.PENDING)]
