"""Fresh reads of a stale plan's people, in batches that share Keycloak's confirming pauses.

When a plan is older than ``reconfirm_after``, each person is read again just before their
action is sent. One read at a time pays, per person, a read by id, a brute-force check and
confirming rounds 0.2 s apart. Here the first person due and the next ones of the plan are
read together through ``IdentitySource.confirm`` (the same reads, the rounds' pauses shared),
and each read is used only while it is younger than ``reconfirm_after``, counted from the
moment its batch *started*: the guarantee is unchanged (nobody is acted on from a read older
than the window). A read that went stale before its action came, or a person the batch could
not read, is read again alone, as before.

The batch is sized from the last one: it doubles while a batch is read within a quarter of
the window (leaving the rest of it for sending their actions), and shrinks to what a quarter
holds at the pace seen when a batch was slower. It is also no larger than the people acted
on in half the window at the pace seen so far (at Atlassian's 10 requests a second, fifty
people take five seconds to send: a larger batch would go stale before its last person).

The next batch is read ahead: when fewer than half a batch of fresh reads is left, its
reads start in the background, so that Keycloak's reads and confirming pauses overlap the
sending instead of stopping it. At most one batch is read at a time (Keycloak's reads by id
take turns anyway); a read-ahead that fails leaves its people to be read when they are due.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from offboard.core.identities import Identity, IdentityId
from offboard.core.snapshots import SnapshotKind, SourceSnapshot
from offboard.ports import IdentitySource

FIRST_BATCH = 10
MAX_BATCH = 200
READING_SHARE = 0.25
"""The part of the window a batch's reads may take; the rest is for sending its actions."""
AGING_SHARE = 0.5
"""A read older than this part of the window is renewed with the next batch read."""
MIN_PACE_SAMPLE = 5
"""People acted on since a batch came in before their pace bounds the next batch."""
USING_SHARE = 0.5
"""The part of the window in which a batch's people are acted on, at the pace seen so far:
the next batch is read while the last half of this one is sent, and must still be fresh
when its own last person comes."""


@dataclass(slots=True)
class Rereads:
    """The batched fresh reads of one apply (see the module docstring)."""

    upcoming: list[IdentityId] = field(default_factory=list)
    """The people of the plan's actions, in the order they will be sent."""
    order: dict[IdentityId, int] = field(default_factory=dict)
    position: int = 0
    size: int = FIRST_BATCH
    reads: dict[IdentityId, tuple[float, Identity | None]] = field(default_factory=dict)
    """Person → (monotonic time its batch started, what it read; None: a confirmed 404)."""
    batches: int = 0
    lock: asyncio.Lock | None = None
    ahead: asyncio.Task[None] | None = None
    """The read of the next batch, started while the current one is being acted on."""
    read_bound: int = MAX_BATCH
    """The batch size the last batch's reading time allows (``_by_reading``)."""
    ready_at: float | None = None
    """When the last batch's reads came in: the pace of use is measured from then."""
    served_since_ready: int = 0

    def expect(self, identity_ids: Iterable[IdentityId]) -> None:
        """The people about to be acted on, in order (read ahead of their actions)."""
        self.upcoming = list(dict.fromkeys(identity_ids))
        self.order = {identity_id: n for n, identity_id in enumerate(self.upcoming)}
        self.position = 0

    async def fresh(
        self, source: IdentitySource, identity_id: IdentityId, window: timedelta
    ) -> Identity | None:
        """The person as read at most ``window`` ago; None only on a 404."""
        limit = window.total_seconds()
        if self.lock is None:
            self.lock = asyncio.Lock()
        async with self.lock:
            if not self._young(identity_id, limit):
                await self._read_batch(source, identity_id, limit)
            hit = self.reads.pop(identity_id, None)
        self._count_served()
        self._read_ahead_if_due(source, limit)
        if hit is not None and time.monotonic() - hit[0] <= limit:
            return hit[1]
        return await source.read_identity(identity_id)  # alone: raises as it always did

    async def close(self) -> None:
        """Stop a read ahead still under way (the apply is over)."""
        if self.ahead is not None and not self.ahead.done():
            self.ahead.cancel()
            await asyncio.gather(self.ahead, return_exceptions=True)

    def _count_served(self) -> None:
        self.served_since_ready += 1

    def _read_ahead_if_due(self, source: IdentitySource, limit: float) -> None:
        """Start reading the next batch once fewer than half a batch of fresh reads is left,
        so that Keycloak's reads and pauses run while the actions already read are sent."""
        if self.ahead is not None and not self.ahead.done():
            return
        if self.position >= len(self.upcoming):
            return
        now = time.monotonic()
        ready = sum(1 for started, _ in self.reads.values() if now - started <= limit)
        if ready * 2 > self.size:
            return
        self.ahead = asyncio.create_task(self._read_ahead(source, limit))

    async def _read_ahead(self, source: IdentitySource, limit: float) -> None:
        assert self.lock is not None  # made by the first fresh()
        async with self.lock:
            while self.position < len(self.upcoming):
                first = self.upcoming[self.position]
                if not self._young(first, limit):
                    break
                self.position += 1
            else:
                return
            try:
                await self._read_batch(source, first, limit)
            except Exception:
                return

    def _young(self, identity_id: IdentityId, limit: float) -> bool:
        hit = self.reads.get(identity_id)
        return hit is not None and time.monotonic() - hit[0] <= limit

    async def _read_batch(self, source: IdentitySource, first: IdentityId, limit: float) -> None:
        self.size = max(1, min(MAX_BATCH, self.read_bound, self._by_use(limit)))
        batch = self._next_batch(first, limit)
        started = time.monotonic()
        probe = SourceSnapshot(
            identities=(),
            taken_at=datetime.now(UTC),
            complete=True,
            kind=SnapshotKind.TARGETED,
            targeted_ids=frozenset(batch),
        )
        read = await source.confirm(probe, batch)
        took = time.monotonic() - started
        self.batches += 1
        for identity in read.identities:
            self.reads[identity.id] = (started, identity)
        for identity_id in read.deleted:
            self.reads[identity_id] = (started, None)
        self.read_bound = self._by_reading(len(batch), took, limit)
        self.size = max(1, min(MAX_BATCH, self.read_bound, 2 * self.size))
        self.ready_at, self.served_since_ready = time.monotonic(), 0

    def _by_reading(self, people: int, took: float, limit: float) -> int:
        """Twice the batch when it was read within ``READING_SHARE`` of the window; else as
        many as that share would hold at the pace it was read.

        Doubling, not scaling by the pace: most of a batch's time is the confirming rounds'
        pauses, which do not grow with the batch, so a quick batch says little about the
        cost of each person (scaling by it kept batches of a dozen for a second each)."""
        budget = limit * READING_SHARE
        if took <= budget:
            return 2 * max(people, self.size // 2)
        return int(people * budget / took)

    def _by_use(self, limit: float) -> int:
        """As many people as are acted on in ``USING_SHARE`` of the window, at the pace
        since the last batch came in (while reads were at hand, so the pace of sending, not
        of reading): a batch read ahead must not go stale before its actions come. Until a
        few were acted on, at most twice the last batch."""
        if self.ready_at is None:
            return self.size
        if self.served_since_ready < MIN_PACE_SAMPLE:
            return 2 * self.size
        elapsed = max(time.monotonic() - self.ready_at, 1e-3)
        return int(self.served_since_ready / elapsed * limit * USING_SHARE)

    def _next_batch(self, first: IdentityId, limit: float) -> list[IdentityId]:
        batch = [first, *self._aging(first, limit)[: self.size - 1]]
        # Read ahead from the person due now: those before them are done or being done.
        self.position = max(self.position, self.order.get(first, -1) + 1)
        while len(batch) < self.size and self.position < len(self.upcoming):
            candidate = self.upcoming[self.position]
            self.position += 1
            if candidate != first and not self._young(candidate, limit):
                batch.append(candidate)
        return batch

    def _aging(self, first: IdentityId, limit: float) -> list[IdentityId]:
        """People read before but not yet acted on whose reads are past ``AGING_SHARE`` of
        the window, in the plan's order: read again with this batch, not each alone (and
        each with its own confirming pauses) when their reads expire."""
        now = time.monotonic()
        aging = [
            identity_id
            for identity_id, (started, _) in self.reads.items()
            if identity_id != first and now - started > limit * AGING_SHARE
        ]
        return sorted(aging, key=lambda identity_id: self.order.get(identity_id, len(self.order)))
