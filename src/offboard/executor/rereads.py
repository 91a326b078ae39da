"""Fresh reads of a stale plan's people, in batches that share Keycloak's confirming pauses.

When a plan is older than ``reconfirm_after``, each person is read again just before their
action is sent. One read at a time pays, per person, a read by id, a brute-force check and
confirming rounds 0.2 s apart. Here the first person due and the next ones of the plan are
read together through ``IdentitySource.confirm`` (the same reads, the rounds' pauses shared),
and each read is used only while it is younger than ``reconfirm_after``, counted from the
moment its batch *started*: the guarantee is unchanged (nobody is acted on from a read older
than the window). A read that went stale before its action came, or a person the batch could
not read, is read again alone, as before.

The batch is sized from the last one: as many people as Keycloak confirmed in a quarter of
the window, leaving the rest of it for sending their actions; it shrinks when a batch was
slow and grows when it was quick.
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
    position: int = 0
    size: int = FIRST_BATCH
    reads: dict[IdentityId, tuple[float, Identity | None]] = field(default_factory=dict)
    """Person → (monotonic time its batch started, what it read; None: a confirmed 404)."""
    batches: int = 0
    lock: asyncio.Lock | None = None

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
        if hit is not None and time.monotonic() - hit[0] <= limit:
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
        per_person = max(took / len(batch), 1e-4)
        self.size = max(1, min(MAX_BATCH, int(limit * READING_SHARE / per_person)))

    def _next_batch(self, first: IdentityId, limit: float) -> list[IdentityId]:
        batch = [first]
        # Read ahead from the person due now: those before them are done or being done.
        self.position = max(self.position, self.order.get(first, -1) + 1)
        while len(batch) < self.size and self.position < len(self.upcoming):
            candidate = self.upcoming[self.position]
            self.position += 1
            if candidate != first and not self._young(candidate, limit):
                batch.append(candidate)
        return batch
