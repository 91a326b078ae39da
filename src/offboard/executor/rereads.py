"""Fresh reads of a stale plan's people, in batches that share Keycloak's confirming pauses.

When a plan is older than ``reconfirm_after``, each person is read again just before their
action is sent. One read at a time pays, per person, a read by id, a brute-force check and
confirming rounds 0.2 s apart. Here the first person due and the next ones of the plan are
read together through ``IdentitySource.confirm`` (the same reads, the rounds' pauses shared),
and each read is used only while it is younger than ``reconfirm_after``, counted from the
moment its batch *started*: the guarantee is unchanged (nobody is acted on from a read older
than the window). A read that went stale before its action came, or a person the batch could
not read, is read again alone, as before.

A batch reads ahead from the person due now, skipping those already acted on and those
whose read is still young; a read ahead that went stale before its person's turn is thus
read again with the next batch, not alone. (Reading ahead only from past the furthest
point read was a trap: after one batch ran ahead of the sends, every later person's read
was stale and nobody new was left ahead, so each was read alone, the rounds' pauses paid
per person behind the lock: a 300-person wave sent 1.6 deactivations a second, not 10.)

The batch is sized from the last one: its reads take at most a quarter of the window,
leaving the rest for sending their actions (a batch that took longer shrinks the next in
proportion, one that took less may double it, as a batch pays its rounds' pauses whatever
its size), and it holds no more than the people served since the last batch and ten more:
reads the sends cannot use while they are young are not made.
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


@dataclass(slots=True)
class Rereads:
    """The batched fresh reads of one apply (see the module docstring)."""

    upcoming: list[IdentityId] = field(default_factory=list)
    """The people of the plan's actions, in the order they will be sent."""
    order: dict[IdentityId, int] = field(default_factory=dict)
    used: set[IdentityId] = field(default_factory=set)
    """People whose read was handed out (their action is sent or being sent)."""
    served: int = 0
    """Reads handed out young since the last batch (how many a batch's life can use)."""
    size: int = FIRST_BATCH
    reads: dict[IdentityId, tuple[float, Identity | None]] = field(default_factory=dict)
    """Person → (monotonic time its batch started, what it read; None: a confirmed 404)."""
    batches: int = 0
    lock: asyncio.Lock | None = None

    def expect(self, identity_ids: Iterable[IdentityId]) -> None:
        """The people about to be acted on, in order (read ahead of their actions)."""
        self.upcoming = list(dict.fromkeys(identity_ids))
        self.order = {identity_id: n for n, identity_id in enumerate(self.upcoming)}
        self.used = set()

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
            self.used.add(identity_id)
        if hit is not None and time.monotonic() - hit[0] <= limit:
            self.served += 1
            return hit[1]
        return await source.read_identity(identity_id)  # alone: raises as it always did

    def _young(self, identity_id: IdentityId, limit: float) -> bool:
        hit = self.reads.get(identity_id)
        return hit is not None and time.monotonic() - hit[0] <= limit

    async def _read_batch(self, source: IdentitySource, first: IdentityId, limit: float) -> None:
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
        usable = self.served + FIRST_BATCH
        self.size = min(_next_size(len(batch), took, limit * READING_SHARE), usable)
        self.served = 0

    def _next_batch(self, first: IdentityId, limit: float) -> list[IdentityId]:
        batch = [first]
        # Read ahead from the person due now: those not yet served whose read is not young.
        for candidate in self.upcoming[self.order.get(first, -1) + 1 :]:
            if len(batch) >= self.size:
                break
            if candidate not in self.used and not self._young(candidate, limit):
                batch.append(candidate)
        return batch


def _next_size(size: int, took: float, budget: float) -> int:
    """The next batch's size after ``size`` people took ``took`` seconds (see the module
    docstring): shrunk in proportion when over ``budget``, else doubled."""
    if took > budget:
        return max(1, min(MAX_BATCH, int(size * budget / took)))
    return min(MAX_BATCH, size * 2)
