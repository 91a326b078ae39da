"""A run stopped by Ctrl-C or a cancelled task is stored as interrupted, not as a failure."""

from __future__ import annotations

import asyncio

import pytest

from offboard.cli.run_words import summary_words
from offboard.core.policy import Policy
from offboard.core.snapshots import SourceSnapshot
from offboard.ports import Progress
from offboard.service.endings import run_ending
from offboard.service.reconciling import reconcile
from offboard.store import SqlStore
from tests.executor.fakes import FakeClock, FakeDirectory
from tests.service.test_reconciling import FakeSource, store

__all__ = ["store"]  # a fixture used below


async def test_a_cancelled_run_is_stored_and_listed_as_interrupted(store: SqlStore) -> None:
    class Stopped(FakeSource):
        async def snapshot(self, *, progress: Progress | None = None) -> SourceSnapshot:
            raise asyncio.CancelledError  # what Ctrl-C does to asyncio.run's task

    with pytest.raises(asyncio.CancelledError):
        await reconcile(source=Stopped({}), directory=FakeDirectory({}), store=store,
                        policy=Policy(), clock=FakeClock(), apply=True)  # fmt: skip
    (run,) = store.runs()
    assert run.status == "cancelled"
    assert summary_words(run.summary) == "interrupted"
    assert "CancelledError" not in str(run.summary)


def test_an_error_is_still_a_failure_named_by_type() -> None:
    assert run_ending(KeyboardInterrupt()) == ("cancelled", {"interrupted": True})
    assert run_ending(ValueError("may hold a secret")) == (
        "failed",
        {"error": "unexpected ValueError"},
    )
