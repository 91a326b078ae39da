"""Read-backs answered by batch reads keep the guarantee of a read by id."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pytest

from offboard.core.accounts import Account, AccountId, AccountStatus
from offboard.core.journal import Phase, Status
from offboard.executor import apply_plan
from offboard.executor.batch_reads import EMAIL_PATIENCE_SECONDS, BatchReader
from offboard.executor.retrying import RetryPolicy
from offboard.ports import TemporaryError
from offboard.store import SqlStore
from tests.executor.fakes import FakeClock, FakeDirectory, account, action, plan_of


@dataclass
class BatchingDirectory(FakeDirectory):
    """A fake that answers batch reads, drops ``hidden`` ids from them, and shows writes
    only after ``lag_reads`` reads of the account (Atlassian's read-after-write lag)."""

    hidden: set[str] = field(default_factory=set)
    batches: list[list[str]] = field(default_factory=list)
    by_id: list[str] = field(default_factory=list)
    lag_reads: int = 0
    reads_seen: dict[str, int] = field(default_factory=dict)
    stale: dict[str, Account] = field(default_factory=dict)

    async def execute(self, action_: object) -> object:  # type: ignore[override]
        key = action_.account_id  # type: ignore[attr-defined]
        self.stale[key] = self.accounts[key]
        return await super().execute(action_)  # type: ignore[arg-type]

    def _seen(self, account_id: str) -> Account | None:
        count = self.reads_seen[account_id] = self.reads_seen.get(account_id, 0) + 1
        if account_id in self.stale and count <= self.lag_reads:
            return self.stale[account_id]
        return self.accounts.get(account_id)

    async def read_account(self, account_id: AccountId) -> Account | None:
        self.by_id.append(account_id)
        return self._seen(account_id)

    async def read_accounts(self, account_ids: Sequence[AccountId]) -> Mapping[str, Account]:
        self.batches.append(list(account_ids))
        found = {aid: self._seen(aid) for aid in account_ids if aid not in self.hidden}
        return {aid: acc for aid, acc in found.items() if acc is not None}


def world(n: int, **options: object) -> BatchingDirectory:
    return BatchingDirectory({f"acc-{i}": account(i) for i in range(n)}, **options)  # type: ignore[arg-type]


async def test_concurrent_reads_share_one_request() -> None:
    directory = world(25)
    reader = BatchReader.for_directory(directory, settle=0.05, patience=0.1)
    got = await asyncio.gather(*(reader.read(AccountId(f"acc-{i}")) for i in range(25)))
    assert [a.id for a in got if a is not None] == [f"acc-{i}" for i in range(25)]
    assert [len(batch) for batch in directory.batches] == [10, 10, 5]
    assert directory.by_id == []


async def test_an_account_missing_from_the_batch_is_read_by_id_never_assumed() -> None:
    directory = world(3, hidden={"acc-1", "acc-9"})
    reader = BatchReader.for_directory(directory, settle=0.01, patience=0.02)
    ids = [AccountId("acc-0"), AccountId("acc-1"), AccountId("acc-9")]
    got = await asyncio.gather(*(reader.read(i) for i in ids))
    assert got[0] is not None
    assert got[1] is not None
    assert got[1].id == "acc-1"
    assert got[2] is None  # only the read by id (404) says "not found"
    assert sorted(directory.by_id) == ["acc-1", "acc-9"]


async def test_a_failed_batch_fails_each_read() -> None:
    async def broken(ids: Sequence[AccountId]) -> Mapping[str, Account]:
        raise TemporaryError("503 from the search", status=503)

    async def one(account_id: AccountId) -> Account | None:
        raise AssertionError("not reached")

    reader = BatchReader(one, broken, settle=0.01, patience=0.02)
    results = await asyncio.gather(
        reader.read(AccountId("a")), reader.read(AccountId("b")), return_exceptions=True
    )
    assert all(isinstance(r, TemporaryError) for r in results)


async def test_without_batch_reads_each_account_is_read_by_id() -> None:
    directory = FakeDirectory({"acc-0": account(0)})
    reader = BatchReader.for_directory(directory)
    assert reader.read_many is None
    got = await reader.read(AccountId("acc-0"))
    assert got is not None


async def test_reads_go_out_once_settled_when_every_worker_waits() -> None:
    directory = world(2)
    reader = BatchReader.for_directory(directory, settle=0.2, patience=3600)
    reader.begin(2)
    reads = asyncio.gather(reader.read(AccountId("acc-0")), reader.read(AccountId("acc-1")))
    await asyncio.sleep(0.1)
    assert directory.batches == []  # not settled: a read now would see the old state
    got = await asyncio.wait_for(reads, 5)  # no patience to wait out: nobody else may come
    assert all(a is not None for a in got)
    assert directory.batches == [["acc-0", "acc-1"]]


async def test_a_finished_worker_releases_the_others() -> None:
    directory = world(1)
    reader = BatchReader.for_directory(directory, settle=0.05, patience=3600)
    reader.begin(2)
    waiting = asyncio.create_task(reader.read(AccountId("acc-0")))
    await asyncio.sleep(0)
    assert not waiting.done()
    reader.finished()
    assert await asyncio.wait_for(waiting, 5) is not None


async def test_apply_reads_back_in_batches_and_verifies_each(
    store: SqlStore, clock: FakeClock
) -> None:
    directory = world(24)  # under the default budget of 25 an hour
    plan = plan_of(*(action(i) for i in range(24)))
    report = await apply_plan(plan, directory=directory, store=store, clock=clock, run_id="r1")
    assert all(o.readback is Status.VERIFIED for o in report.outcomes)
    assert sorted(a for b in directory.batches for a in b) == sorted(f"acc-{i}" for i in range(24))
    assert len(directory.batches) < 24 / 2  # batched: far fewer requests than accounts
    assert all(len(batch) <= 10 for batch in directory.batches)
    readbacks = [r for r in store.journal() if r.phase is Phase.READBACK]
    assert len(readbacks) == 24
    assert all(r.status is Status.VERIFIED for r in readbacks)


async def test_lagging_reads_are_read_again_with_backoff(store: SqlStore, clock: FakeClock) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        await asyncio.sleep(0)

    directory = world(12, lag_reads=1)
    plan = plan_of(*(action(i) for i in range(12)))
    report = await apply_plan(
        plan, directory=directory, store=store, clock=clock, run_id="r1",
        retry=RetryPolicy(sleep=sleep),
    )  # fmt: skip
    assert all(o.readback is Status.VERIFIED for o in report.outcomes)
    assert directory.reads_seen == {f"acc-{i}": 2 for i in range(12)}  # the stale read, then
    assert slept
    assert min(slept) == 0.25


async def test_a_write_that_never_shows_is_a_mismatch(store: SqlStore, clock: FakeClock) -> None:
    async def sleep(seconds: float) -> None:
        await asyncio.sleep(0)

    directory = world(3, ignore_writes=frozenset({"acc-1"}))
    plan = plan_of(*(action(i) for i in range(3)))
    report = await apply_plan(
        plan, directory=directory, store=store, clock=clock, run_id="r1",
        retry=RetryPolicy(sleep=sleep),
    )  # fmt: skip
    verdicts = {o.action.account_id: o.readback for o in report.outcomes}
    assert verdicts == {"acc-0": Status.VERIFIED, "acc-1": Status.MISMATCH,
                        "acc-2": Status.VERIFIED}  # fmt: skip
    assert directory.accounts["acc-1"].status is AccountStatus.ACTIVE


@pytest.mark.parametrize("n", [1, 3])
async def test_small_plans_do_not_wait_for_a_batch(
    store: SqlStore, clock: FakeClock, n: int
) -> None:
    directory = world(n)
    plan = plan_of(*(action(i) for i in range(n)))
    report = await asyncio.wait_for(
        apply_plan(plan, directory=directory, store=store, clock=clock, run_id="r1"), 5
    )  # the settle, not the patience: every worker waiting sends the batch once settled
    assert all(o.readback is Status.VERIFIED for o in report.outcomes)
    assert len(directory.batches) == 1


async def test_a_read_waits_for_the_write_to_settle_then_goes_with_a_full_batch() -> None:
    directory = world(13)
    reader = BatchReader.for_directory(directory, settle=0.2, patience=3600)
    reads = [asyncio.create_task(reader.read(AccountId(f"acc-{i}"))) for i in range(13)]
    await asyncio.sleep(0.1)
    assert directory.batches == []  # not settled yet: a read now would see the old state
    await asyncio.wait_for(asyncio.gather(*reads[:10]), 5)
    assert directory.batches == [[f"acc-{i}" for i in range(10)]]
    assert not any(read.done() for read in reads[10:])  # three wait for company (patience)
    reader.begin(3)  # ...until every worker left is waiting
    reader.finished()
    reader.finished()
    await asyncio.wait_for(asyncio.gather(*reads[10:]), 5)
    assert directory.batches[1] == ["acc-10", "acc-11", "acc-12"]


@dataclass
class EmailDirectory(BatchingDirectory):
    """Also finds accounts by email; ``moved`` maps an email to another account's."""

    email_searches: list[list[str]] = field(default_factory=list)
    moved: dict[str, str] = field(default_factory=dict)

    async def find_by_emails(self, emails: list[str]) -> list[Account]:
        self.email_searches.append(list(emails))
        by_email = {acc.email: acc for acc in self.accounts.values()}
        found = [by_email.get(self.moved.get(e, e)) for e in emails]
        return [acc for acc in found if acc is not None]


async def test_reads_with_an_email_go_a_hundred_a_search_matched_by_account_id() -> None:
    accounts = {f"acc-{i}": account(i) for i in range(150)}
    directory = EmailDirectory(accounts)  # type: ignore[arg-type]
    directory.moved["user7@example.com"] = "user8@example.com"  # a stranger answers for 7
    reader = BatchReader.for_directory(directory, settle=0.05)
    reader.begin(150)
    reads = [reader.read(AccountId(f"acc-{i}"), f"user{i}@example.com") for i in range(150)]
    got = await asyncio.wait_for(asyncio.gather(*reads), 5)
    assert [a.id if a else None for a in got] == [f"acc-{i}" for i in range(150)]
    assert [len(s) for s in directory.email_searches] == [100, 50]
    assert directory.batches == []  # no search by ids
    assert directory.by_id == ["acc-7"]  # only the one the answer lacked, read by id


async def test_a_read_without_an_email_still_goes_by_account_id() -> None:
    directory = EmailDirectory({"acc-0": account(0), "acc-1": account(1)})  # type: ignore[arg-type]
    reader = BatchReader.for_directory(directory, settle=0.05)
    reader.begin(2)
    got = await asyncio.wait_for(
        asyncio.gather(reader.read(AccountId("acc-0"), "user0@example.com"),
                       reader.read(AccountId("acc-1"))), 5,
    )  # fmt: skip
    assert all(a is not None for a in got)
    assert directory.email_searches == [["user0@example.com"]]
    assert directory.batches == [["acc-1"]]


async def test_apply_reads_back_by_email_and_verifies_each(
    store: SqlStore, clock: FakeClock
) -> None:
    directory = EmailDirectory({f"acc-{i}": account(i) for i in range(25)})  # type: ignore[arg-type]
    plan = plan_of(*(action(i) for i in range(25)))
    report = await asyncio.wait_for(
        apply_plan(plan, directory=directory, store=store, clock=clock, run_id="r1"), 10
    )
    assert all(o.readback is Status.VERIFIED for o in report.outcomes)
    assert sum(len(s) for s in directory.email_searches) == 25
    assert len(directory.email_searches) <= 2
    assert directory.batches == []
    assert directory.by_id == []


async def test_applies_running_at_once_share_their_read_backs(
    store: SqlStore, clock: FakeClock
) -> None:
    """Concurrent waves of the daemon: one search confirms people of both."""
    directory = EmailDirectory({f"acc-{i}": account(i) for i in range(20)})  # type: ignore[arg-type]
    first = plan_of(*(action(i) for i in range(10)))
    second = plan_of(*(action(i) for i in range(10, 20)))
    reports = await asyncio.wait_for(
        asyncio.gather(
            apply_plan(first, directory=directory, store=store, clock=clock, run_id="r1"),
            apply_plan(second, directory=directory, store=store, clock=clock, run_id="r2"),
        ),
        10,
    )
    assert all(o.readback is Status.VERIFIED for r in reports for o in r.outcomes)
    assert sorted(len(s) for s in directory.email_searches) == [20]  # both plans, one search
    assert BatchReader.shared(directory) is BatchReader.shared(directory)


@dataclass
class VirtualClock:
    """The reader's clock, moved by the test: paced sends simulated without waiting them."""

    now: float = 0.0

    def __call__(self) -> float:
        return self.now


async def _paced_reads(reader: BatchReader, count: int, per_second: float) -> list[Account | None]:
    """``count`` workers, each asking one read-back as sends paced at ``per_second`` finish
    and then done (as each account's group of an apply)."""
    clock = reader.clock
    assert isinstance(clock, VirtualClock)

    async def worker(i: int) -> Account | None:
        try:
            return await reader.read(AccountId(f"acc-{i}"), f"user{i}@example.com")
        finally:
            reader.finished()

    reader.begin(count)
    workers = []
    for i in range(count):
        workers.append(asyncio.create_task(worker(i)))
        await asyncio.sleep(0)  # the read is asked for now
        clock.now += 1 / per_second
        if i % 10 == 9:
            await asyncio.sleep(0.06)  # a tick of the reader's timer
    clock.now += 1.0  # the last write settles; every worker is waiting
    return await asyncio.wait_for(asyncio.gather(*workers), 5)


async def test_read_backs_of_paced_sends_fill_their_email_searches() -> None:
    """At Atlassian's 10 requests a second a hundred read-backs take ten seconds to gather:
    the searches wait for them, a hundred each, and the tail goes once every worker waits
    (the 3,000-person wave sent 123 searches of about 30 with a 3-second patience)."""
    directory = EmailDirectory({f"acc-{i}": account(i) for i in range(250)})  # type: ignore[arg-type]
    reader = BatchReader.for_directory(directory, clock=VirtualClock())  # type: ignore[arg-type]
    got = await _paced_reads(reader, 250, per_second=10)
    assert [a.id if a else None for a in got] == [f"acc-{i}" for i in range(250)]
    assert [len(search) for search in directory.email_searches] == [100, 100, 50]
    assert directory.by_id == []


async def test_a_read_back_waits_for_company_no_longer_than_the_patience() -> None:
    """A trickle of reads (other workers still sending slowly) is not held back for good."""
    directory = EmailDirectory({f"acc-{i}": account(i) for i in range(5)})  # type: ignore[arg-type]
    clock = VirtualClock()
    reader = BatchReader.for_directory(directory, clock=clock)  # type: ignore[arg-type]
    reader.begin(50)  # forty-five workers have not asked yet
    reads = [
        asyncio.create_task(reader.read(AccountId(f"acc-{i}"), f"user{i}@example.com"))
        for i in range(5)
    ]
    await asyncio.sleep(0)  # the reads are asked for now
    clock.now += EMAIL_PATIENCE_SECONDS - 1
    await asyncio.sleep(0.12)
    assert directory.email_searches == []
    clock.now += 1
    got = await asyncio.wait_for(asyncio.gather(*reads), 5)
    assert all(a is not None for a in got)
    assert [len(search) for search in directory.email_searches] == [5]
