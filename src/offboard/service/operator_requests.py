"""Operator acts handed to the leading daemon (``core.operator_requests``).

``offboard cutoff now`` takes the leader lease to act, as every command that writes to
Atlassian does. In production a daemon always leads, so the command would always be
refused; instead it queues the act in the store and waits for its outcome. The leader
(:class:`HandedActs`, one of the daemon's loops) takes each queued act within a tick, and
carries it out as the command would have: fresh reads of both sides, the same one-account
plan (protected principals, account classes, guards, budget), under its own lease and with
the pass gate held so no pass acts on the same person at the same moment, journaled with
the operator's name and reason.

A full pass in progress does not hold the act back: the act runs between two of the pass's
writes (``PassGate.interlude``), and the pass leaves that person to its next run.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from offboard.core.operator_requests import OperatorRequest, RequestKind, RequestState
from offboard.core.plan import GuardName
from offboard.executor.applying import PlanBlockedError
from offboard.executor.outcomes import ApplyReport
from offboard.executor.preflight import Preflight
from offboard.service.acting import CLI_HOLDER, LeaderBusyError
from offboard.service.gate import PassGate
from offboard.service.leasing import LEASE_NAME, Lease
from offboard.service.operator import (
    Act,
    OperatorRefusedError,
    Prepared,
    Sides,
    carry_out,
    guard_names,
    prepare_cutoff,
    prepare_lift,
)
from offboard.service.outages import FailureStreak

log = structlog.get_logger(__name__)

TICK = 1.0
"""Seconds between two looks at the queue: a handed act waits at most about this long (plus
the write a full pass has in flight, or a running re-check)."""


class RequestQueue(Protocol):
    """Where an act is left for the leader (``store.operator_requests.StoredRequests``)."""

    def queue(
        self,
        kind: RequestKind,
        person: str,
        *,
        actor: str,
        reason: str,
        overrides: tuple[str, ...],
        at: datetime,
    ) -> OperatorRequest: ...

    def leader(self, lease_name: str, now: datetime) -> str | None: ...


class RequestBook(Protocol):
    """What the leader needs of the store's requests (``store.operator_requests``)."""

    def take_next(self, at: datetime) -> OperatorRequest | None: ...

    def finish(self, request_id: int, state: RequestState, outcome: str, at: datetime) -> None: ...

    def interrupt_taken(self, at: datetime) -> int: ...


class HandedActs:
    """The leader's loop over the queued operator acts."""

    def __init__(
        self,
        book: RequestBook,
        sides: Sides,
        lease: Lease,
        reconfirm_after: timedelta | None,
        *,
        tick: float = TICK,
    ) -> None:
        self.book = book
        self.sides = sides
        self.lease = lease
        self.reconfirm_after = reconfirm_after
        self.tick = tick

    async def run(self, stopping: asyncio.Event, gate: PassGate) -> None:
        """Until ``stopping``: while this replica leads, carry out what is queued."""
        led = False
        failures = FailureStreak(
            "operator requests",
            "the requests wait in the store and are carried out once it answers; "
            "`offboard cutoff requests` lists them",
        )
        while not stopping.is_set():
            leads = self.lease.held
            try:
                if leads and not led:
                    await self._interrupt_the_last_leaders()
                led = leads
                if leads:
                    await self.carry_out_queued(gate)
            except Exception as error:  # the queue must never stop the daemon
                failures.failed(error)
            else:
                if leads:  # a standby does not ask the store: its silence proves nothing
                    failures.succeeded()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self.tick)

    async def carry_out_queued(self, gate: PassGate) -> int:
        """Every queued act, oldest first; how many were taken."""
        taken = 0
        while self.lease.held:
            request = await asyncio.to_thread(self.book.take_next, self.sides.clock.now())
            if request is None:
                break
            taken += 1
            log.info("operator request taken", request=request.id, kind=request.kind.value,
                     actor=request.actor)  # fmt: skip
            state, outcome = await self._perform(request, gate)
            await asyncio.to_thread(
                self.book.finish, request.id, state, outcome, self.sides.clock.now()
            )
            log.info("operator request finished", request=request.id, state=state.value)
        return taken

    async def _interrupt_the_last_leaders(self) -> None:
        count = await asyncio.to_thread(self.book.interrupt_taken, self.sides.clock.now())
        if count:
            log.warning("operator requests interrupted by a change of leader", count=count)

    async def _perform(self, request: OperatorRequest, gate: PassGate) -> tuple[RequestState, str]:
        try:
            act = Act(request.actor, request.reason)
            overrides = guard_names(request.overrides)
            prepare = prepare_cutoff if request.kind is RequestKind.CUTOFF else prepare_lift
            prepared = await prepare(request.person, act, self.sides)
            if prepared.refusal is not None:
                return RequestState.REFUSED, prepared.refusal
            why = f"operator request #{request.id} ({request.kind.value} by {request.actor})"
            async with gate.interlude(why, touched(prepared)):
                fence = self.lease.fence
                if fence is None:
                    return RequestState.FAILED, "this daemon stopped leading before it acted"
                preflight = Preflight(fence, self.sides.source, self.reconfirm_after)
                report = await carry_out(prepared, act, self.sides, overrides, preflight)
        except OperatorRefusedError as error:
            return RequestState.REFUSED, str(error)
        except PlanBlockedError as error:
            return RequestState.BLOCKED, f"{error}; lift it with --override-guard NAME"
        except Exception as error:
            return RequestState.FAILED, f"{type(error).__name__}: {error}"
        return settled(report)


def touched(prepared: Prepared) -> set[str]:
    """The person and accounts a one-person act changes: what a running pass must leave to
    the next one (``PassGate.interlude``)."""
    return {
        prepared.identity_id,
        prepared.account.id,
        *(action.account_id for action in prepared.plan.actions),
    }


async def act_or_hand_over(
    prepared: Prepared,
    person: str,
    act: Act,
    sides: Sides,
    acting: Callable[[], AbstractAsyncContextManager[Preflight]],
    queue: RequestQueue | None,
    overrides: frozenset[GuardName] = frozenset(),
) -> ApplyReport | OperatorRequest:
    """The one way a one-person act (cut-off, lift) is done, from any face: carried out under
    the lease ``acting`` takes, or, when a daemon leads, queued for it (the request returned).
    LeaderBusyError when the lease is held by nobody who would take the request (another
    command-line apply) or there is no queue."""
    async with contextlib.AsyncExitStack() as stack:
        try:
            preflight = await stack.enter_async_context(acting())
        except LeaderBusyError:
            if queue is None or not await _daemon_leads(queue, sides.clock.now()):
                raise
        else:
            return await carry_out(prepared, act, sides, overrides, preflight)
    assert queue is not None
    return await asyncio.to_thread(
        queue.queue, RequestKind(prepared.kind), person, actor=act.actor, reason=act.reason,
        overrides=tuple(sorted(g.value for g in overrides)), at=sides.clock.now(),
    )  # fmt: skip


async def _daemon_leads(queue: RequestQueue, now: datetime) -> bool:
    leader = await asyncio.to_thread(queue.leader, LEASE_NAME, now)
    return leader is not None and not leader.startswith(CLI_HOLDER)


def settled(report: ApplyReport) -> tuple[RequestState, str]:
    """The request's state and a line for people, from the act's report."""
    words = "; ".join(
        f"{o.action.kind} of account {o.action.account_id}: {o.status}"
        + (f", read back {o.readback}" if o.readback is not None else "")
        + (f" ({o.detail})" if o.detail else "")
        for o in report.outcomes
    )
    words = f"run {report.run_id}: {words or 'nothing sent'}"
    if report.held:
        return RequestState.BLOCKED, words
    if report.not_carried_out:  # e.g. a lift of someone disabled again since it was asked
        return RequestState.REFUSED, words
    return (RequestState.DONE if report.all_done else RequestState.INCOMPLETE), words


async def await_outcome(
    read: Callable[[], OperatorRequest | None],
    wait: float,
    *,
    every: float = 0.5,
    on_change: Callable[[OperatorRequest], None] | None = None,
) -> OperatorRequest | None:
    """Watch one request until it is finished or ``wait`` seconds pass; its last state
    (None when it is gone from the store)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    seen: RequestState | None = None
    while True:
        request = await asyncio.to_thread(read)
        if request is None or request.state.finished:
            return request
        if on_change is not None and request.state is not seen:
            on_change(request)
        seen = request.state
        if loop.time() >= deadline:
            return request
        await asyncio.sleep(min(every, max(deadline - loop.time(), 0.0)))
