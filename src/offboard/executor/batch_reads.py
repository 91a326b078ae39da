"""Read-backs of many actions answered by one request, with the guarantee of a read by id.

A bulk apply reads back every account it changed. One request per account spends most of
Atlassian's rate limit on confirmations; a search by up to ten account ids answers ten at
once. The reader collects the read-backs that concurrent actions ask for:

* a read waits ``settle`` seconds first: Atlassian shows a write only after a lag, and a
  read sent at once would mostly see the old state and have to be sent again;
* settled reads go out ten at a time as soon as ten are settled; fewer go out once the
  oldest of them has waited ``patience`` seconds;
* when the reader knows how many workers may still ask (``begin``/``finished``, one per
  account group of an apply) and every one of them is waiting, all go out together as soon
  as the newest has settled: the last reads of a run, or the single read of a one-person
  plan, wait for no company, only for the write to settle (a read sent sooner mostly sees
  the old state and is sent again, a wave's last reads two or three times: slower and
  dearer than waiting).

Nothing is assumed from a batch answer: each account's state is judged by the caller as
before (and read again, backed off, while the write does not show), and an account the
answer lacks is read by id, where only a 404 means "not found". A failed batch fails each
of its reads; each caller's own retry and back-off apply.

When the directory also finds accounts by email a hundred at a time (``find_by_emails``,
the v2 search a wave's lookups use) and the caller knows the account's email, the read goes
in such a search instead: the same search, the same fields, judged the same way, but ten
times the company per request. Only an answer whose account id is the one asked for counts;
an account the answer lacks (its email changed, say) is read by id as before. The wait for
company is then as long as the sends take to bring a hundred reads
(``EMAIL_PATIENCE_SECONDS``): at Atlassian's 10 requests per second the sends are what a
wave waits for, and a read-back that waits for a full search delays nobody's deactivation,
while the wave's last reads still go as soon as they settle (every worker waiting).
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from offboard.core.accounts import Account, AccountId
from offboard.ports import AccountDirectory, BatchReadingDirectory, EmailReadingDirectory

BATCH_MAX = 10
"""Account ids per batch: the Organizations API's ``accountIds`` filter takes ten."""
SETTLE_SECONDS = 0.5
"""How long a read waits after it is asked for (the write's lag) before it may be sent."""
PATIENCE_SECONDS = 1.0
"""How long the oldest read of a batch that is not full waits for others to join it."""
EMAIL_BATCH_MAX = 100
"""Addresses per email search (the v2 search's ``emails`` filter takes a hundred)."""
EMAIL_PATIENCE_SECONDS = 12.0
"""The patience when reads go by email: a hundred sends at Atlassian's default 10 requests a
second, and the searches between them, bring a full search of read-backs in about 11 s.
With 3 s, the 3,000-person wave sent 123 read-back searches of about 30 accounts (12 s of
the rate limit); full ones need 30. A read waits this long only while sends go on (see
``_all_wait``): a one-person plan or a wave's tail waits only for the write to settle."""
TICK_SECONDS = 0.05

ReadOne = Callable[[AccountId], Awaitable[Account | None]]
ReadMany = Callable[[Sequence[AccountId]], Awaitable[Mapping[str, Account]]]
ReadEmails = Callable[[list[str]], Awaitable[Sequence[Account]]]


_SHARED: dict[int, tuple[weakref.ref[Any], asyncio.AbstractEventLoop, BatchReader]] = {}
"""The reader shared by the applies of a directory (by its id), with the loop it serves."""


@dataclass(slots=True)
class _Waiting:
    account_id: AccountId
    answer: asyncio.Future[Account | None]
    since: float
    email: str | None = None


@dataclass
class BatchReader:
    """Answers ``read(account_id)`` calls together; ``read_many=None`` reads one by one."""

    read_one: ReadOne
    read_many: ReadMany | None = None
    read_emails: ReadEmails | None = None
    batch_max: int = BATCH_MAX
    settle: float = SETTLE_SECONDS
    patience: float = PATIENCE_SECONDS
    clock: Callable[[], float] = time.monotonic
    _waiting: list[_Waiting] = field(default_factory=list)
    _active: int | None = None
    _timer: asyncio.Task[None] | None = None
    _running: set[asyncio.Task[None]] = field(default_factory=set)

    @classmethod
    def for_directory(cls, directory: AccountDirectory, **timing: float) -> BatchReader:
        many = directory.read_accounts if isinstance(directory, BatchReadingDirectory) else None
        emails = directory.find_by_emails if isinstance(directory, EmailReadingDirectory) else None
        if many is not None and emails is not None:
            timing = {"patience": EMAIL_PATIENCE_SECONDS, **timing}
            timing.setdefault("batch_max", EMAIL_BATCH_MAX)
        return cls(directory.read_account, many, emails, **timing)  # type: ignore[arg-type]

    @classmethod
    def shared(cls, directory: AccountDirectory) -> BatchReader:
        """The reader of ``directory`` in this event loop, one for every apply running at
        once: the daemon applies concurrent waves, each with a share of the rate limit, and
        a reader of its own gathered only that share's reads per batch (3,000 people in six
        waves of 500: 1,488 read-back searches, about two accounts each)."""
        loop = asyncio.get_running_loop()
        known = _SHARED.get(id(directory))
        if known is not None and known[0]() is directory and known[1] is loop:
            return known[2]
        reader = cls.for_directory(directory)
        try:
            # Forgotten with the directory (an id may be reused once it is gone).
            ref = weakref.ref(directory, lambda _: _SHARED.pop(id(directory), None))
        except TypeError:  # a directory that takes no weak reference is not shared
            return reader
        _SHARED[id(directory)] = (ref, loop, reader)
        return reader

    def begin(self, workers: int) -> None:
        """``workers`` more may ask for reads from now on (each says when it is done)."""
        self._active = (self._active or 0) + workers

    def finished(self) -> None:
        """One worker will ask for no more reads: those waiting may no longer wait for it."""
        if self._active is not None:
            self._active -= 1
            self._send_if_all_wait()

    async def read(self, account_id: AccountId, email: str | None = None) -> Account | None:
        """The account as a fresh read shows it (None: not found by a read by id).
        ``email``: the account's address, to read it in an email search if one is at hand."""
        if self.read_many is None:
            return await self.read_one(account_id)
        answer: asyncio.Future[Account | None] = asyncio.get_running_loop().create_future()
        by_email = email if self.read_emails is not None else None
        self._waiting.append(_Waiting(account_id, answer, self.clock(), by_email))
        self._send_if_all_wait()
        if self._waiting and self._timer is None:
            self._timer = asyncio.create_task(self._send_when_due())
        return await answer

    def _all_wait(self) -> bool:
        return (
            self._active is not None and bool(self._waiting) and len(self._waiting) >= self._active
        )

    def _settled(self) -> int:
        """How many of the waiting reads (oldest first) have waited ``settle`` seconds."""
        now = self.clock()
        return sum(1 for w in self._waiting if now - w.since >= self.settle)

    def _send_if_all_wait(self) -> None:
        if self._all_wait() and self.clock() - self._waiting[-1].since >= self.settle:
            self._send(len(self._waiting))

    def _send(self, count: int) -> None:
        """The first ``count`` waiting reads, in batches."""
        taken, self._waiting = self._waiting[:count], self._waiting[count:]
        by_email = [w for w in taken if w.email is not None]
        by_id = [w for w in taken if w.email is None]
        batches = [
            by_email[i : i + EMAIL_BATCH_MAX] for i in range(0, len(by_email), EMAIL_BATCH_MAX)
        ]
        size = min(self.batch_max, BATCH_MAX)  # the accountIds filter takes ten
        batches += [by_id[i : i + size] for i in range(0, len(by_id), size)]
        for batch in batches:
            task = asyncio.create_task(self._answer(batch))
            self._running.add(task)  # a reference, or the task may be collected mid-flight
            task.add_done_callback(self._running.discard)

    async def _send_when_due(self) -> None:
        try:
            while self._waiting:
                await asyncio.sleep(TICK_SECONDS)
                self._send_if_all_wait()
                if not self._waiting:
                    break
                settled = self._settled()
                if settled and self.clock() - self._waiting[0].since >= self.patience:
                    self._send(settled)
                elif settled >= self.batch_max:
                    self._send(settled - settled % self.batch_max)
        finally:
            self._timer = None

    async def _search(self, batch: list[_Waiting]) -> Mapping[str, Account]:
        """One search for the batch: by email if each has one, else by account ids."""
        if self.read_emails is not None and all(w.email is not None for w in batch):
            accounts = await self.read_emails([w.email for w in batch if w.email is not None])
            return {account.id: account for account in accounts}  # matched by id, never email
        assert self.read_many is not None
        return await self.read_many([w.account_id for w in batch])

    async def _answer(self, batch: list[_Waiting]) -> None:
        try:
            found = await self._search(batch)
        except Exception as error:  # each caller handles it as a failed read of its own
            for waiting in batch:
                if not waiting.answer.done():
                    waiting.answer.set_exception(error)
            return
        for waiting in batch:
            if waiting.answer.done():
                continue
            account = found.get(waiting.account_id)
            if account is not None:
                waiting.answer.set_result(account)
                continue
            try:  # absent from the search: only a read by id may say "not found"
                waiting.answer.set_result(await self.read_one(waiting.account_id))
            except Exception as error:
                waiting.answer.set_exception(error)
