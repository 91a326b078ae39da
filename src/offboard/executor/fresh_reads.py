"""The people of a stale plan, read again in batches just before their actions are sent.

When a plan is older than ``reconfirm_after``, every action re-reads its person in Keycloak
before it is sent (``preflight``). One by one, that is a read by id, a brute-force check and
the confirming rounds with their pauses for each person: at 50,000 people, where planning
alone outlasts the five seconds, it was most of a bulk apply's time. Here the next people
due are read together through the source's ``confirm`` (the same reads, lockout checks and
confirming rounds as a read of one, with one pause per round for the whole batch), and each
read is used only while it is younger than ``reconfirm_after``, measured from the moment
the batch started; an older one is read again. A person the batch could not read is read
alone, so that a failure surfaces exactly as before.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from offboard.core.identities import Identity, IdentityId
from offboard.core.snapshots import SnapshotKind, SourceSnapshot
from offboard.ports import IdentitySource

BATCH = 50
"""People read together: about a second of reads, well inside ``reconfirm_after``."""


@dataclass
class FreshReads:
    """Batched fresh reads of the people an apply is about to act on."""

    source: IdentitySource
    max_age: timedelta
    batch: int = BATCH
    _upcoming: list[IdentityId] = field(default_factory=list)
    _read: dict[IdentityId, tuple[datetime, Identity | None]] = field(default_factory=dict)
    _asked: set[IdentityId] = field(default_factory=set)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def expect(self, identity_ids: Iterable[IdentityId]) -> None:
        """The people the apply will ask about, in the order it will ask."""
        self._upcoming = list(dict.fromkeys(identity_ids))

    async def read(self, identity_id: IdentityId, now: datetime) -> Identity | None:
        """The person as a read no older than ``max_age`` shows them (None: gone, a 404)."""
        async with self._lock:
            self._asked.add(identity_id)
            if not self._fresh(identity_id, now):
                await self._read_batch(identity_id, now)
            if self._fresh(identity_id, now):
                return self._read[identity_id][1]
        return await self.source.read_identity(identity_id)  # raises as a read of one does

    def _fresh(self, identity_id: IdentityId, now: datetime) -> bool:
        hit = self._read.get(identity_id)
        return hit is not None and now - hit[0] <= self.max_age

    async def _read_batch(self, first: IdentityId, now: datetime) -> None:
        """``first`` and the next people due who were not asked about yet and lack a fresh
        read (those already asked about are never read ahead again)."""
        self._asked.add(first)
        ahead = (i for i in self._upcoming if i not in self._asked and not self._fresh(i, now))
        due = [first, *itertools.islice(ahead, self.batch - 1)]
        empty = SourceSnapshot((), datetime.now(UTC), True, kind=SnapshotKind.TARGETED)
        read = await self.source.confirm(empty, due)
        found = {identity.id: identity for identity in read.identities}
        for identity_id in due:
            if identity_id in found:
                self._read[identity_id] = (now, found[identity_id])
            elif identity_id in read.deleted:
                self._read[identity_id] = (now, None)
