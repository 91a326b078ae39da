"""What is checked just before each request that changes Atlassian: the fence and the person.

Two checks stand between a plan and a write, both at the moment of sending rather than when
the plan was made (and, in the daemon's full pass, a third: ``sends``, below):

* **the fence** — this process still holds the leader lease with the token it started
  under (``Store.fence_holds``). A leader paused past its lease (SIGSTOP, a frozen VM) wakes
  up to find it replaced and sends nothing more; the store refuses its journal writes too.
* **the person** — when the plan is older than ``reconfirm_after``, the person is read again
  by id in Keycloak and the action is skipped (and journaled why) if they came back; the
  people due next are read in the same batch (``executor.rereads``), each read used only
  while it is younger than ``reconfirm_after``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from offboard.core.identities import IdentityId
from offboard.core.plan import Action
from offboard.core.reconfirming import needs_reconfirming, reason_to_skip
from offboard.executor.rereads import Rereads
from offboard.ports import Clock, Fence, FenceLostError, IdentitySource, Store


class SendGate(Protocol):
    """Makes room between a long apply's writes for an operator's act
    (``service.gate.PassGate``), and names the actions that act superseded."""

    def sending(self) -> AbstractAsyncContextManager[None]:
        """Held around one write; waits while an operator's act runs."""
        ...

    def superseded(self, action: Action) -> str | None:
        """Why ``action`` must not be sent any more (an operator acted on its person or
        account since the plan was made); None to send it."""
        ...

    def taken_over(self, person_or_account: str) -> str | None:
        """Why nothing more may be sent about this person or account (an operator's act
        changed them since the plan was made); None to go on."""
        ...


@dataclass(frozen=True, slots=True)
class Preflight:
    """The checks one apply makes before each write; the defaults check nothing."""

    fence: Fence | None = None
    """The lease this apply acts under; None only where no lease is in play (unit tests)."""
    source: IdentitySource | None = None
    """Where a stale plan's people are read again; None disables re-confirmation."""
    reconfirm_after: timedelta | None = None
    """Plans older than this re-read each person before acting on them."""
    rereads: Rereads = field(default_factory=Rereads, compare=False)
    """Those re-reads, in batches sharing Keycloak's pauses (``executor.rereads``)."""
    sends: SendGate | None = None
    """The daemon's gate, for a full pass that lets an operator's act through between its
    writes; None: the apply's writes go on alone."""

    def sending(self) -> AbstractAsyncContextManager[None]:
        """Held around each write (``sends``); nothing to wait for without a gate."""
        return self.sends.sending() if self.sends is not None else contextlib.nullcontext()

    def superseded(self, action: Action) -> str | None:
        """Why an operator's act during this apply took ``action`` over; None to send it."""
        return self.sends.superseded(action) if self.sends is not None else None

    def without_superseded(self, action: Action) -> tuple[Action, dict[str, str]]:
        """``action`` less the group members an operator's act during this apply took over
        (the others still follow), and those left out with why."""
        if self.sends is None:
            return action, {}
        members = (value for name, value in action.attributes if name == "member")
        left_out = {m: why for m in members if (why := self.sends.taken_over(m)) is not None}
        if not left_out:
            return action, {}
        kept = tuple(
            (name, value)
            for name, value in action.attributes
            if name != "member" or value not in left_out
        )
        return dataclasses.replace(action, attributes=kept), left_out

    def expect(self, actions: Iterable[Action]) -> None:
        """The actions about to be sent, in order: a stale plan's people are read ahead."""
        if self.source is None or self.reconfirm_after is None:
            return
        self.rereads.expect(IdentityId(a.identity_id) for a in actions if needs_reconfirming(a))

    async def close(self) -> None:
        """The apply is over: no read ahead may outlive it."""
        await self.rereads.close()

    async def ensure_fence(self, store: Store, clock: Clock) -> None:
        """Raise ``FenceLostError`` unless the lease is still ours, unexpired, same token."""
        if self.fence is None:
            return
        if not await asyncio.to_thread(store.fence_holds, self.fence, clock.now()):
            raise FenceLostError(
                f"lease {self.fence.name!r} is no longer held by {self.fence.holder} with "
                f"token {self.fence.token}: not sending (another process leads, or may)"
            )

    async def reason_to_skip(
        self, action: Action, planned_at: datetime, now: datetime
    ) -> str | None:
        """Why a stale plan's action must not be sent now, from a fresh read; None to send."""
        if self.source is None or self.reconfirm_after is None:
            return None
        if not needs_reconfirming(action):
            return None
        if now - planned_at <= self.reconfirm_after:
            stale_at = planned_at + self.reconfirm_after
            identity_id = IdentityId(action.identity_id)
            self.rereads.while_fresh(self.source, identity_id, now, stale_at, self.reconfirm_after)
            return None
        fresh = await self.rereads.fresh(self.source, action.identity_id, self.reconfirm_after)
        reason = reason_to_skip(action, fresh)
        if reason is None:
            return None
        age = (now - planned_at).total_seconds()
        return f"skipped: re-read {age:.0f} s after planning, {reason}"


NO_PREFLIGHT = Preflight()
"""No fence and no re-confirmation: for tests of the executor alone, and plan-only runs."""
