"""Journal writes of one apply that arrive together share one durable commit.

Every record of an action is durable before the step it describes goes on: the intent
before the request, the outcome before the read-back, the read-back with its link before
the action counts as done. The actions of an apply run side by side, so while one commit
waits for the disk the next records queue up; they are written together by the next commit
(``coalescing``). Each writer still waits for the commit that holds its records. With
SQLite a commit costs a disk flush and a thread switch, and an apply of 190 deactivations
made 570 of them, queued one behind the other; they became 232.

Admissions (``BudgetGate.admit``: a slot and an intent, before a request) go in the same
commits (``Store.admit``): one writer queue, so an action waiting to be let through never
waits for another action's outcome commit to finish first, and one disk flush serves both.
A commit that holds an admission also checks that the lease has not run out (``clock``).

A failed commit fails every writer whose records it held, with the same error: a lost
fence (``FenceLostError``) stops them all, as it must.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from offboard.core.holds import Admission, BudgetVerdict
from offboard.core.journal import JournalRecord
from offboard.core.links import Link
from offboard.executor.coalescing import Coalescer
from offboard.ports import Clock, Fence, Store

Write = tuple[Sequence[JournalRecord], Sequence[Link]]


@dataclass
class GroupCommitter:
    """Commits the queued admissions and records (and links) of one apply, a batch per
    commit, in order."""

    store: Store
    fence: Fence | None = None
    clock: Clock | None = None
    """Judges the lease's expiry in a commit that lets actions through; None: not judged."""
    max_writes: int = 200
    """At most this many writes (a few records each) in one commit."""
    _writes: Coalescer[Admission | Write, BudgetVerdict | None] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._writes = Coalescer(self._commit, self.max_writes)

    async def write(self, records: Sequence[JournalRecord], links: Sequence[Link] = ()) -> None:
        """Return once the records and links are durable (in this batch's commit)."""
        await self._writes.submit((records, links))

    async def admit(self, admission: Admission) -> BudgetVerdict:
        """The admission's verdict, once its commit is durable (``Store.admit``)."""
        verdict = await self._writes.submit(admission)
        assert verdict is not None  # an admission's result is always its verdict
        return verdict

    def _commit(self, items: list[Admission | Write]) -> list[BudgetVerdict | None]:
        admissions = [item for item in items if isinstance(item, Admission)]
        writes = [item for item in items if not isinstance(item, Admission)]
        records = [record for batch, _ in writes for record in batch]
        links = [link for _, batch in writes for link in batch]
        if not admissions:
            self.store.append_all(records, links, fence=self.fence)
            return [None] * len(items)
        now = self.clock.now() if self.clock is not None else None
        verdicts = iter(
            self.store.admit(admissions, fence=self.fence, now=now, records=records, links=links)
        )
        return [next(verdicts) if isinstance(item, Admission) else None for item in items]
