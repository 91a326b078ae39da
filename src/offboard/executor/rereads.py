"""Fresh reads of a stale plan's people, in batches that share Keycloak's confirming pauses.

When a plan is older than ``reconfirm_after``, each person is read again just before their
action is sent. One read at a time pays, per person, a read by id, a brute-force check and
confirming rounds 0.2 s apart. Here the first person due and the next ones of the plan are
read together through ``IdentitySource.confirm`` (the same reads, the rounds' pauses shared),
and each read is used only while it is younger than ``reconfirm_after``, counted from the
moment its batch *started*: the guarantee is unchanged (nobody is acted on from a read older
than the window). A person the batch could not read is read again alone, as before.

A batch takes, from the person due on, those not yet acted on whose read is missing or will
be too old by their turn: a read that grows old before its person's turn is renewed with the
next batch, not alone. Their turn is foreseen from their place in the plan and the pace of
sending; until that pace is known, a read past half the window is renewed. (Reading only
from past the furthest point read was a trap: after one batch ran ahead of the sends, every
later person's read went stale and each was read alone, the rounds' pauses paid per person
behind the lock: a 300-person wave sent 1.6 deactivations a second, not 10. Renewing every
read past half the window was the opposite trap: the next batch starts when half of this
one is left, just as those reads pass half the window, so most people were read twice,
and at Atlassian's 10 requests a second 950 leavers cost 4,550 reads by id.)

The batch is sized from the last one: it doubles while a batch is read within a quarter of
the window (a batch pays its rounds' pauses whatever its size), and shrinks to what a quarter
holds at the pace seen when a batch was slower. It is also no larger than the people acted
on in half the window at the pace of sending since the last batch came in (at Atlassian's
10 requests a second, fifty people take five seconds: a larger batch would go stale).

Once that pace is known, the next batch is read ahead: when fewer than half the last batch
of fresh reads is left, its reads start in the background, so that Keycloak's reads and
confirming pauses overlap the sending instead of stopping it. One batch is read at a time
(Keycloak's reads by id take turns anyway); a read ahead that fails leaves its people to be
read when they are due, and one still under way when the apply ends is stopped (``close``).

The first batch is read ahead too: while the plan is still fresh, its actions need no read,
but a long apply outlives the window, and the action that finds it stale would wait for a
whole batch (confirming rounds included) while every send behind it stops. So once the plan
has less time left than a batch may take to read (``READING_SHARE`` of the window), the
people who will come after it goes stale, at the pace of sending so far (aiming short:
``WARM_AIM``), are read in the background (``while_fresh``). That batch is read once: the
batches after it are read ahead as above, once the plan is stale and its people are acted
on. (Reading on while the plan stayed fresh read the whole rest of a long plan at once,
batch after batch, every read stale long before its person's turn.)
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
"""Until the pace of sending is known, a read older than this part of the window is renewed
with the next batch read."""
TURN_SHARE = 0.8
"""Once the pace is known, a read is renewed when it will be older than this part of the
window at its person's foreseen turn (the rest: room for the pace to slow down)."""
MIN_PACE_SAMPLE = 5
"""People acted on since a batch came in before their pace bounds the next batch (and
before a batch is read ahead)."""
USING_SHARE = 0.5
"""The part of the window in which a batch's people are acted on, at the pace seen so far:
the next batch is read while the last half of this one is sent, and must still be fresh
when its own last person comes."""

WARM_AIM = 0.5
"""The first batch, read while the plan is fresh, starts this part of the way to the person
the plan is expected to go stale for: sending slows down while the batch is read (the reads
share Keycloak and the machine), and a batch that starts too far ahead leaves the people
before it to a batch of their own, while every send waits. A few people read for nothing
cost less."""


@dataclass(slots=True)
class Rereads:
    """The batched fresh reads of one apply (see the module docstring)."""

    upcoming: list[IdentityId] = field(default_factory=list)
    """The people of the plan's actions, in the order they will be sent."""
    order: dict[IdentityId, int] = field(default_factory=dict)
    used: set[IdentityId] = field(default_factory=set)
    """People whose read was handed out (their action is sent or being sent)."""
    size: int = FIRST_BATCH
    reads: dict[IdentityId, tuple[float, Identity | None]] = field(default_factory=dict)
    """Person → (monotonic time its batch started, what it read; None: a confirmed 404)."""
    lock: asyncio.Lock | None = None
    ahead: asyncio.Task[None] | None = None
    """The read of the next batch, started while the current one is being acted on."""
    read_bound: int = MAX_BATCH
    """The batch size the last batch's reading time allows (``_by_reading``)."""
    ready_at: float | None = None
    """When the last batch's reads came in: the pace of sending is measured from then."""
    served_since_ready: int = 0
    fresh_since: datetime | None = None
    """When the first action went without a read (the plan still fresh), on the apply's
    clock: the pace of sending before the plan goes stale is measured from then."""
    served_fresh: int = 0
    warmed: bool = False
    """The batch read while the plan was fresh has been started (it is read once)."""
    last_batch: int = FIRST_BATCH
    """People in the last batch read: the read ahead starts when half as many are left."""
    head: int = 0
    """The place in ``upcoming`` of the first person not yet acted on (or about to be)."""

    def expect(self, identity_ids: Iterable[IdentityId]) -> None:
        """The people about to be acted on, in order (read ahead of their actions)."""
        self.upcoming = list(dict.fromkeys(identity_ids))
        self.order = {identity_id: n for n, identity_id in enumerate(self.upcoming)}
        self.used = set()
        self.head = 0
        self.warmed = False

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
            self._use(identity_id)
        self.served_since_ready += 1
        self._read_ahead_if_due(source, limit)
        if hit is not None and time.monotonic() - hit[0] <= limit:
            return hit[1]
        return await source.read_identity(identity_id)  # alone: raises as it always did

    def while_fresh(
        self,
        source: IdentitySource,
        identity_id: IdentityId,
        now: datetime,
        stale_at: datetime,
        window: timedelta,
    ) -> None:
        """``identity_id`` is acted on from the plan's own read (fresh until ``stale_at``):
        start reading the people due once the plan is stale, when that is near."""
        if self.fresh_since is None:
            self.fresh_since = now
            self.ready_at = time.monotonic()  # the pace of sending, for the batch's size
        self._use(identity_id)
        self.served_fresh += 1
        self.served_since_ready += 1
        limit = window.total_seconds()
        left = (stale_at - now).total_seconds()
        if left > limit * READING_SHARE or self.served_fresh < MIN_PACE_SAMPLE:
            return
        if self.warmed or (self.ahead is not None and not self.ahead.done()):
            return
        self.warmed = True
        elapsed = max((now - self.fresh_since).total_seconds(), 1e-3)
        sent_before_stale = int(self.served_fresh / elapsed * left * WARM_AIM)
        after = self.upcoming[self.order.get(identity_id, -1) + 1 + sent_before_stale :]
        first = next((i for i in after if self._due(i, limit)), None)
        if first is not None:
            self.ahead = asyncio.create_task(self._read_ahead(source, limit, first))

    async def close(self) -> None:
        """Stop a read ahead still under way (the apply is over)."""
        if self.ahead is not None and not self.ahead.done():
            self.ahead.cancel()
            await asyncio.gather(self.ahead, return_exceptions=True)

    def _read_ahead_if_due(self, source: IdentitySource, limit: float) -> None:
        """Start reading the next batch once the pace of sending is known and fewer than half
        the last batch's fresh reads are left."""
        if self.ahead is not None and not self.ahead.done():
            return
        if self.served_since_ready < MIN_PACE_SAMPLE:
            return
        now = time.monotonic()
        ready = sum(1 for started, _ in self.reads.values() if now - started <= limit)
        if ready * 2 > self.last_batch:
            return
        self.ahead = asyncio.create_task(self._read_ahead(source, limit))

    async def _read_ahead(
        self, source: IdentitySource, limit: float, first: IdentityId | None = None
    ) -> None:
        if self.lock is None:
            self.lock = asyncio.Lock()
        async with self.lock:
            if first is None:
                first = next((i for i in self.upcoming if self._due(i, limit)), None)
            if first is None:
                return
            try:
                await self._read_batch(source, first, limit)
            except Exception:
                return

    def _young(self, identity_id: IdentityId, limit: float) -> bool:
        hit = self.reads.get(identity_id)
        return hit is not None and time.monotonic() - hit[0] <= limit

    def _use(self, identity_id: IdentityId) -> None:
        self.used.add(identity_id)
        self.head = max(self.head, self.order.get(identity_id, -1) + 1)

    def _due(self, identity_id: IdentityId, limit: float) -> bool:
        """Not yet acted on, and with no read or one too old by the person's turn: past
        ``TURN_SHARE`` of the window then, at the pace of sending; past ``AGING_SHARE`` of
        it now while that pace is unknown."""
        if identity_id in self.used:
            return False
        hit = self.reads.get(identity_id)
        if hit is None:
            return True
        age = time.monotonic() - hit[0]
        pace = self._pace()
        if pace is None:
            return age > limit * AGING_SHARE
        ahead = max(0, self.order.get(identity_id, self.head) - self.head)
        return age + ahead / pace > limit * TURN_SHARE

    def _pace(self) -> float | None:
        """People acted on a second since the last batch came in, once enough were."""
        if self.ready_at is None or self.served_since_ready < MIN_PACE_SAMPLE:
            return None
        return self.served_since_ready / max(time.monotonic() - self.ready_at, 1e-3)

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
        for identity in read.identities:
            self.reads[identity.id] = (started, identity)
        for identity_id in read.deleted:
            self.reads[identity_id] = (started, None)
        self.read_bound = self._by_reading(len(batch), took, limit)
        self.size = max(1, min(MAX_BATCH, self.read_bound, 2 * self.size))
        self.last_batch = len(batch)
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
        return max(1, int(people * budget / took))

    def _by_use(self, limit: float) -> int:
        """As many people as are acted on in ``USING_SHARE`` of the window, at the pace
        since the last batch came in (while reads were at hand, so the pace of sending, not
        of reading): a batch read ahead must not go stale before its actions come. Until a
        few were acted on, at most twice the last batch (the first batch: ``size``)."""
        if self.ready_at is None:
            return self.size
        pace = self._pace()
        if pace is None:
            return 2 * self.size
        return int(pace * limit * USING_SHARE)

    def _next_batch(self, first: IdentityId, limit: float) -> list[IdentityId]:
        """``first``, then the people due after them in the plan's order, up to ``size``."""
        batch = [first]
        for candidate in self.upcoming[self.order.get(first, -1) + 1 :]:
            if len(batch) >= self.size:
                break
            if self._due(candidate, limit):
                batch.append(candidate)
        return batch
