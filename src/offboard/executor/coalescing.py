"""Blocking store calls from concurrent tasks, made together while one is under way.

The actions of an apply run side by side, and each makes store calls that take a lock and
wait for the disk: a journal commit, a budget reservation. One at a time, each waits for
the others' commits. Here, calls that arrive while one is in its worker thread queue up and
are made by the next call as one batch (one transaction, one disk flush): the batching
databases call group commit. Each caller still gets its own result, and only once the
batch that holds its item is done, so nothing is less durable or less exact; there are
only fewer transactions, the more the busier the apply.

A batch that raises fails every caller whose item it held, with the same error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass
class _Queued(Generic[Item, Result]):
    item: Item
    done: asyncio.Future[Result]


@dataclass
class Coalescer(Generic[Item, Result]):
    """Runs ``batch`` (blocking, in a worker thread) on the items queued at the moment."""

    batch: Callable[[list[Item]], Sequence[Result]]
    """One result per item, in order."""
    max_items: int = 200
    """At most this many items in one batch: a bounded transaction, a bounded wait."""
    _queue: list[_Queued[Item, Result]] = field(default_factory=list)
    _runner: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        """The item's result, once the batch holding it is done."""
        done: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.append(_Queued(item, done))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._drain())
        return await done

    async def _drain(self) -> None:
        while self._queue:
            taken = self._queue[: self.max_items]
            self._queue = self._queue[self.max_items :]
            try:
                results = await asyncio.to_thread(self.batch, [q.item for q in taken])
            except Exception as error:  # handed to each caller of the batch, not lost
                _fail(taken, error)
            except BaseException as error:  # cancelled: nobody queued may wait forever
                _fail(taken + self._queue, error)
                self._queue = []
                raise
            else:
                for queued, result in zip(taken, results, strict=True):
                    if not queued.done.done():
                        queued.done.set_result(result)


def _fail(queued: list[_Queued[Item, Result]], error: BaseException) -> None:
    for one in queued:
        if not one.done.done():
            one.done.set_exception(error)
