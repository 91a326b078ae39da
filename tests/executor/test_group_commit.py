"""Journal writes that arrive together share one durable commit, and nothing is less durable."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from offboard.core.holds import Admission, BudgetVerdict
from offboard.core.journal import JournalRecord, Phase, Status
from offboard.core.links import Link
from offboard.executor.group_commit import GroupCommitter
from offboard.ports import Fence, FenceLostError
from offboard.store import SqlStore
from tests.executor.fakes import FakeClock

HOUR = timedelta(hours=1)


def record(n: int) -> JournalRecord:
    return JournalRecord(
        at=datetime(2026, 12, 1, tzinfo=UTC),
        run_id="r1",
        action_key=f"deactivate:id-{n}",
        phase=Phase.INTENT,
        status=Status.PENDING,
        fingerprint="fp-1",
    )


def _lead(store: SqlStore, holder: str, clock: FakeClock) -> Fence:
    """``holder`` takes the daemon lease for an hour: its fence."""
    assert store.acquire_lease("daemon", holder, HOUR, clock.now())
    token = store.lease_token("daemon", holder, clock.now())
    assert token is not None
    return Fence("daemon", holder, token)


class GatedStore:
    """Commits in a worker thread as the real store does, each held until the test allows."""

    def __init__(self) -> None:
        self.commits: list[list[str]] = []
        self.gate = threading.Event()
        self.fail_with: Exception | None = None

    def append_all(
        self,
        records: Sequence[JournalRecord],
        links: Iterable[Link] = (),
        *,
        fence: Fence | None = None,
    ) -> None:
        assert self.gate.wait(5)
        if self.fail_with is not None:
            raise self.fail_with
        self.commits.append([r.action_key for r in records])


async def test_writes_queued_behind_a_commit_share_the_next_one_in_order() -> None:
    store = GatedStore()
    committer = GroupCommitter(store)  # type: ignore[arg-type]
    first = asyncio.create_task(committer.write([record(0)]))
    await asyncio.sleep(0.05)  # the first commit is under way, held at the gate
    rest = [asyncio.create_task(committer.write([record(n)])) for n in range(1, 6)]
    await asyncio.sleep(0.05)
    assert not any(task.done() for task in (first, *rest))  # nobody returns before its commit
    store.gate.set()
    await asyncio.gather(first, *rest)
    assert store.commits == [
        ["deactivate:id-0"],
        [f"deactivate:id-{n}" for n in range(1, 6)],
    ]


async def test_a_failed_commit_fails_every_writer_it_held() -> None:
    store = GatedStore()
    committer = GroupCommitter(store)  # type: ignore[arg-type]
    store.fail_with = FenceLostError("lease lost")
    store.gate.set()
    results = await asyncio.gather(
        *(committer.write([record(n)]) for n in range(3)), return_exceptions=True
    )
    assert all(isinstance(result, FenceLostError) for result in results)
    store.fail_with = None
    await committer.write([record(9)])  # the committer goes on for later writes
    assert store.commits == [["deactivate:id-9"]]


async def test_a_commit_holds_at_most_max_writes() -> None:
    store = GatedStore()
    committer = GroupCommitter(store, max_writes=2)  # type: ignore[arg-type]
    tasks = [asyncio.create_task(committer.write([record(n)])) for n in range(5)]
    await asyncio.sleep(0)
    store.gate.set()
    await asyncio.gather(*tasks)
    assert [len(commit) for commit in store.commits] == [2, 2, 1]


async def test_a_replaced_leader_records_nothing_through_a_shared_commit(
    store: SqlStore, clock: FakeClock
) -> None:
    old = _lead(store, "paused", clock)
    clock.at += 2 * HOUR
    assert store.acquire_lease("daemon", "successor", HOUR, clock.now())
    committer = GroupCommitter(store, old)
    results = await asyncio.gather(
        *(committer.write([record(n)]) for n in range(3)), return_exceptions=True
    )
    assert all(isinstance(result, FenceLostError) for result in results)
    assert list(store.journal()) == []


async def test_concurrent_writers_all_land_in_the_real_store(store: SqlStore) -> None:
    committer = GroupCommitter(store)
    await asyncio.gather(*(committer.write([record(n)]) for n in range(80)))
    assert sorted(r.action_key for r in store.journal()) == sorted(
        f"deactivate:id-{n}" for n in range(80)
    )


async def test_admissions_and_journal_writes_queued_together_share_one_commit(
    store: SqlStore, clock: FakeClock
) -> None:
    """An action waiting to be let through waits for one commit, not for the other
    actions' outcome commits and then its own: both kinds go in the next commit."""
    commits: list[str] = []
    admit, append_all = store.admit, store.append_all

    def counting_admit(*args: Any, **kwargs: Any) -> list[BudgetVerdict]:
        commits.append(f"admit with {len(kwargs['records'])} records")
        return admit(*args, **kwargs)

    def counting_append(*args: Any, **kwargs: Any) -> None:
        commits.append("append")
        append_all(*args, **kwargs)

    store.admit = counting_admit  # type: ignore[method-assign]
    store.append_all = counting_append  # type: ignore[method-assign]
    committer = GroupCommitter(store, clock=clock)
    verdicts = await asyncio.gather(
        committer.write([record(1)]),
        committer.admit(Admission(None, record(2))),
        committer.write([record(3)]),
        committer.admit(Admission(None, record(4))),
    )
    assert verdicts[1] == verdicts[3] == BudgetVerdict(True)
    assert commits == ["admit with 2 records"]
    assert sorted(r.action_key for r in store.journal()) == [
        f"deactivate:id-{n}" for n in range(1, 5)
    ]


async def test_a_commit_with_an_admission_checks_the_lease_has_not_run_out(
    store: SqlStore, clock: FakeClock
) -> None:
    """The records queued with it are refused too: a leader whose lease ran out stops."""
    committer = GroupCommitter(store, _lead(store, "slow", clock), clock)
    clock.at += 2 * HOUR  # nobody took over, but the lease ran out
    results = await asyncio.gather(
        committer.write([record(1)]),
        committer.admit(Admission(None, record(2))),
        return_exceptions=True,
    )
    assert all(isinstance(result, FenceLostError) for result in results)
    assert list(store.journal()) == []
