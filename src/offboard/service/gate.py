"""The daemon's gate: many per-user re-checks at once, or one full reconciliation alone, and
an operator's one-person act that a running full pass lets through between its writes.

A full pass and a re-check of the same user must not act on the same account at once, so the
full pass waits for running re-checks to finish and holds new ones back while it runs.

An operator's cut-off must not wait for a full pass to end: at a real tenant's rate limit a
pass of a thousand actions takes minutes. So a one-person act (:meth:`PassGate.interlude`)
runs *inside* a running reconciliation (:meth:`PassGate.yielding`, the part of a full pass
that knows how to make room): the pass's writes (:meth:`PassGate.sending`, around each
action it sends) stop at their next boundary, the act runs alone against Atlassian, and the
pass goes on. Both parts of a full pass yield, deprovisioning and then provisioning by SCIM
(joiners, movers, group changes): the provisioning part holds ``yielding`` over the whole
pass, and the deprovisioning part's own ``yielding`` inside it is then one with it.

The people and accounts an act changed during a pass are **superseded** for the rest of that
pass: the pass's plan was made from reads older than the act, so its remaining actions
on them are skipped (journaled why) and the next pass plans them from fresh reads. A SCIM
membership change names its people as members: one the act changed is left out of it
(:meth:`PassGate.taken_over`), and the change is skipped when nobody is left.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from offboard.core.plan import Action


class PassGate:
    """A small readers-writer lock on top of an ``asyncio.Condition``, with an operator lane."""

    def __init__(self) -> None:
        self._condition = asyncio.Condition()
        self._shared = 0
        self._exclusive = False
        self._exclusive_waiting = 0
        self._interlude = False
        self._interludes_waiting = 0
        self._sending = 0
        self._yielding = 0
        """How many ``yielding`` blocks of the running pass are open (they nest)."""
        self._superseded: dict[str, str] = {}
        """Identity and account ids an interlude acted on during the yielding full pass
        (emptied when it stops yielding)."""

    @asynccontextmanager
    async def shared(self) -> AsyncIterator[None]:
        """Held by re-checks; excluded only by a full pass (which has priority when waiting)
        and an operator's act."""
        async with self._condition:
            await self._condition.wait_for(
                lambda: not self._exclusive and not self._exclusive_waiting and not self._interlude
            )
            self._shared += 1
        try:
            yield
        finally:
            async with self._condition:
                self._shared -= 1
                self._condition.notify_all()

    @asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        """Held by a full pass: waits for the running re-checks, then runs alone (but for
        operator acts, which run between its writes)."""
        async with self._condition:
            self._exclusive_waiting += 1
            try:
                await self._condition.wait_for(
                    lambda: not self._exclusive and not self._shared and not self._interlude
                )
            finally:
                self._exclusive_waiting -= 1
                self._condition.notify_all()
            self._exclusive = True
        try:
            yield
        finally:
            async with self._condition:
                self._exclusive = False
                self._condition.notify_all()

    @asynccontextmanager
    async def interlude(self, why: str, ids: Iterable[str]) -> AsyncIterator[None]:
        """Held by an operator's act on the people and accounts ``ids``. With no full pass
        running: alone, as a pass would be. During one: between its writes, which wait
        meanwhile; ``ids`` are then superseded for the rest of that pass (``why`` says by
        what)."""
        async with self._condition:
            self._interludes_waiting += 1
            try:
                await self._condition.wait_for(self._interlude_may_start)
            finally:
                self._interludes_waiting -= 1
            self._interlude = True
            if self._yielding:  # only a yielding pass lets an act in, and forgets it after
                self._superseded.update(dict.fromkeys(ids, why))
        try:
            yield
        finally:
            async with self._condition:
                self._interlude = False
                self._condition.notify_all()

    def _interlude_may_start(self) -> bool:
        if self._interlude:
            return False
        if self._exclusive:  # a full pass runs: between two of its writes, if it yields
            return self._yielding > 0 and not self._sending
        return not self._shared and not self._exclusive_waiting

    @asynccontextmanager
    async def yielding(self) -> AsyncIterator[None]:
        """Held by a full pass (inside ``exclusive``) around the part that sends each write
        under ``sending`` and skips what ``superseded`` names; operator acts may run then.
        Blocks nest: what an act superseded holds until the outermost one ends (the whole
        pass, when the provisioning part wraps the deprovisioning part)."""
        async with self._condition:
            self._yielding += 1
            self._condition.notify_all()
        try:
            yield
        finally:
            async with self._condition:
                if self._yielding == 1:
                    await self._condition.wait_for(lambda: not self._interlude)
                    self._superseded = {}
                self._yielding -= 1

    @asynccontextmanager
    async def sending(self) -> AsyncIterator[None]:
        """Held by a full pass around each write: waits while an operator's act runs or
        waits (it goes first)."""
        async with self._condition:
            await self._condition.wait_for(
                lambda: not self._interlude and not self._interludes_waiting
            )
            self._sending += 1
        try:
            yield
        finally:
            async with self._condition:
                self._sending -= 1
                self._condition.notify_all()

    def superseded(self, action: Action) -> str | None:
        """Why the running pass must not send ``action`` (an operator acted on its person or
        account since the pass read them); None to send it (a membership change may still
        leave some members out: ``taken_over``)."""
        return self.taken_over(action.identity_id) or self.taken_over(action.account_id)

    def taken_over(self, person_or_account: str) -> str | None:
        """Why the running pass must send nothing more about this person or account (an
        operator acted on them since the pass read them); None when nobody did."""
        why = self._superseded.get(person_or_account)
        if why is None:
            return None
        return f"skipped: {why} acted on this person during the pass; the next pass re-plans"
