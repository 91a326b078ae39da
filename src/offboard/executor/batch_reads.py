"""Read-backs of many actions answered by one request, with the guarantee of a read by id.

A bulk apply reads back every account it changed. One request per account spends most of
Atlassian's rate limit on confirmations; a search by up to ten account ids answers ten at
once. The reader collects the read-backs that concurrent actions ask for and sends them
together when a batch is full or the first one has waited ``linger`` seconds (by then
Atlassian's read-after-write lag has usually passed, so the first read tends to verify).

When the reader knows how many workers may still ask (``begin``/``finished``, one per
account group of an apply), it does not wait once every one of them is waiting: the last
reads of a run, or the single read of a one-person plan, go out at once.

Nothing is assumed from a batch answer: each account's state is judged by the caller as
before, and an account the answer lacks is read by id, where only a 404 means "not found".
A failed batch fails each of its reads, and each caller's own retry and back-off apply.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from offboard.core.accounts import Account, AccountId
from offboard.ports import AccountDirectory, BatchReadingDirectory

BATCH_MAX = 10
"""Account ids per batch: the Organizations API's ``accountIds`` filter takes ten."""
LINGER_SECONDS = 0.5
"""How long the first read of a batch waits for others to join it."""

ReadOne = Callable[[AccountId], Awaitable[Account | None]]
ReadMany = Callable[[Sequence[AccountId]], Awaitable[Mapping[str, Account]]]


@dataclass
class BatchReader:
    """Answers ``read(account_id)`` calls together; ``read_many=None`` reads one by one."""

    read_one: ReadOne
    read_many: ReadMany | None = None
    batch_max: int = BATCH_MAX
    linger: float = LINGER_SECONDS
    _waiting: list[tuple[AccountId, asyncio.Future[Account | None]]] = field(default_factory=list)
    _active: int | None = None
    _timer: asyncio.Task[None] | None = None
    _running: set[asyncio.Task[None]] = field(default_factory=set)

    @classmethod
    def for_directory(
        cls, directory: AccountDirectory, linger: float = LINGER_SECONDS
    ) -> BatchReader:
        many = directory.read_accounts if isinstance(directory, BatchReadingDirectory) else None
        return cls(directory.read_account, many, linger=linger)

    def begin(self, workers: int) -> None:
        """``workers`` may ask for reads from now on (each says when it is done)."""
        self._active = workers

    def finished(self) -> None:
        """One worker will ask for no more reads: those waiting may no longer wait for it."""
        if self._active is not None:
            self._active -= 1
            self._flush_if_all_wait()

    def _flush_if_all_wait(self) -> None:
        if self._active is not None and self._waiting and len(self._waiting) >= self._active:
            while self._waiting:
                self._send(self._take())

    async def read(self, account_id: AccountId) -> Account | None:
        """The account as a fresh read shows it (None: not found by a read by id)."""
        if self.read_many is None:
            return await self.read_one(account_id)
        answer: asyncio.Future[Account | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((account_id, answer))
        if len(self._waiting) >= self.batch_max:
            self._send(self._take())
        self._flush_if_all_wait()
        if self._waiting and self._timer is None:
            self._timer = asyncio.create_task(self._after_linger())
        return await answer

    def _take(self) -> list[tuple[AccountId, asyncio.Future[Account | None]]]:
        batch, self._waiting = self._waiting[: self.batch_max], self._waiting[self.batch_max :]
        if not self._waiting and self._timer is not None:
            self._timer.cancel()
            self._timer = None
        return batch

    def _send(self, batch: list[tuple[AccountId, asyncio.Future[Account | None]]]) -> None:
        task = asyncio.create_task(self._answer(batch))
        self._running.add(task)  # a reference, or the task may be collected mid-flight
        task.add_done_callback(self._running.discard)

    async def _after_linger(self) -> None:
        await asyncio.sleep(self.linger)
        self._timer = None
        while self._waiting:
            self._send(self._take())

    async def _answer(self, batch: list[tuple[AccountId, asyncio.Future[Account | None]]]) -> None:
        assert self.read_many is not None
        ids = [account_id for account_id, _ in batch]
        try:
            found = await self.read_many(ids)
        except Exception as error:  # each caller handles it as a failed read of its own
            for _, answer in batch:
                if not answer.done():
                    answer.set_exception(error)
            return
        for account_id, answer in batch:
            if answer.done():
                continue
            account = found.get(account_id)
            if account is not None:
                answer.set_result(account)
                continue
            try:  # absent from the search: only a read by id may say "not found"
                answer.set_result(await self.read_one(account_id))
            except Exception as error:
                answer.set_exception(error)
