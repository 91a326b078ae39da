"""A one-person act while a daemon leads: handed to the daemon instead of refused.

Every command that writes to Atlassian acts under the leader lease. ``offboard cutoff``
takes it when it can; when a daemon (``offboard run``) leads, as it always does in
production, the act is queued in the store for that daemon (``service.operator_requests``)
and this command waits for the outcome. Another command-line apply holding the lease still
means a refusal: nobody would take the request.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from rich.console import Console

from offboard.cli.errors import RefusedError
from offboard.cli.exit_codes import ExitCode
from offboard.core.operator_requests import OperatorRequest, RequestKind, RequestState
from offboard.core.plan import GuardName

if TYPE_CHECKING:
    from offboard.cli.flows import Wired
    from offboard.executor import ApplyReport
    from offboard.service.operator import Act, Prepared, Sides

DEFAULT_WAIT = 60.0
"""Seconds `cutoff` waits for the daemon to carry out what it handed over."""
EXIT_FOR = {
    RequestState.DONE: ExitCode.OK,
    RequestState.INCOMPLETE: ExitCode.INCOMPLETE,
    RequestState.INTERRUPTED: ExitCode.INCOMPLETE,
    RequestState.BLOCKED: ExitCode.BLOCKED,
    RequestState.REFUSED: ExitCode.REFUSED,
    RequestState.FAILED: ExitCode.ERROR,
}


async def act_or_hand_over(
    wired: Wired,
    sides: Sides,
    person: str,
    prepared: Prepared,
    act: Act,
    overrides: frozenset[GuardName],
    console: Console,
    wait: float,
) -> ApplyReport | OperatorRequest:
    """Carry the act out under the lease, or hand it to the leading daemon and wait."""
    from offboard.executor.preflight import Preflight
    from offboard.service.acting import LeaderBusyError, acting_lease
    from offboard.service.operator import carry_out

    async with contextlib.AsyncExitStack() as stack:
        try:
            lease = acting_lease(wired.store, wired.clock, wired.lease_ttl)
            fence = await stack.enter_async_context(lease)
        except LeaderBusyError as error:
            busy = str(error)
        else:
            preflight = Preflight(fence, wired.source, wired.reconfirm_after)
            return await carry_out(prepared, act, sides, overrides, preflight)
    return await hand_over(wired, person, prepared, act, overrides, console, wait, busy)


async def hand_over(
    wired: Wired,
    person: str,
    prepared: Prepared,
    act: Act,
    overrides: frozenset[GuardName],
    console: Console,
    wait: float,
    busy: str,
) -> OperatorRequest:
    """Queue the act for the leading daemon; its last state after at most ``wait`` seconds."""
    from offboard.service.leasing import LEASE_NAME
    from offboard.service.operator_requests import await_outcome
    from offboard.store.operator_requests import StoredRequests

    requests = StoredRequests(wired.store.engine)
    leader = await asyncio.to_thread(requests.leader, LEASE_NAME, wired.clock.now())
    if leader is None or leader.startswith("cli:"):
        raise RefusedError(f"{busy}; nothing was applied")
    request = await asyncio.to_thread(
        requests.queue, RequestKind(prepared.kind), person, actor=act.actor,
        reason=act.reason, overrides=tuple(sorted(g.value for g in overrides)),
        at=wired.clock.now(),
    )  # fmt: skip
    console.print(
        f"The daemon {leader} leads this store, so it carries the act out: request "
        f"#{request.id} handed to it. Waiting up to {wait:.0f} s for the outcome (Ctrl-C "
        "stops the waiting, not the request).",
        markup=False,
    )

    def taken(seen: OperatorRequest) -> None:
        if seen.state is RequestState.TAKEN:
            console.print(f"request #{seen.id} taken by the daemon", markup=False)

    try:
        last = await await_outcome(lambda: requests.get(request.id), wait, on_change=taken)
    except asyncio.CancelledError:
        console.print(
            f"stopped waiting; request #{request.id} stays with the daemon: "
            "`offboard cutoff requests` shows what became of it",
            markup=False,
        )
        raise
    return last or request


def show_request(request: OperatorRequest, console: Console) -> ExitCode:
    """Say what became of a handed act; its exit code."""
    if not request.state.finished:
        console.print(
            f"request #{request.id} is still {request.state}: the daemon carries it out once "
            "the pass it is running ends. `offboard cutoff requests` shows its outcome.",
            markup=False,
        )
        return ExitCode.INCOMPLETE
    console.print(f"request #{request.id} {request.state}: {request.outcome}", markup=False)
    return EXIT_FOR[request.state]
