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
from offboard.core.operator_requests import OperatorRequest, RequestState
from offboard.core.plan import GuardName
from offboard.executor.preflight import Preflight

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from offboard.cli.flows import Wired
    from offboard.executor import ApplyReport
    from offboard.service.operator import Act, Prepared, Sides
    from offboard.store.operator_requests import StoredRequests

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
    """``service.operator_requests.act_or_hand_over`` under this command's own lease; a
    handed act is then watched for at most ``wait`` seconds."""
    from offboard.service.acting import LeaderBusyError
    from offboard.service.operator_requests import act_or_hand_over as act_or_queue
    from offboard.store.operator_requests import StoredRequests

    requests = StoredRequests(wired.store.engine)

    @contextlib.asynccontextmanager
    async def own_lease() -> AsyncIterator[Preflight]:
        from offboard.service.acting import acting_lease

        async with acting_lease(wired.store, wired.clock, wired.lease_ttl) as fence:
            yield Preflight(fence, wired.source, wired.reconfirm_after)

    try:
        done = await act_or_queue(prepared, person, act, sides, own_lease, requests, overrides)
    except LeaderBusyError as error:
        raise RefusedError(f"{error}; nothing was applied") from None
    if not isinstance(done, OperatorRequest):
        return done
    return await _watch(requests, done, console, wait)


async def _watch(
    requests: StoredRequests, request: OperatorRequest, console: Console, wait: float
) -> OperatorRequest:
    """Wait up to ``wait`` seconds for the daemon to finish a handed act; its last state."""
    from offboard.service.operator_requests import await_outcome

    console.print(
        f"A daemon leads this store, so it carries the act out: request #{request.id} handed "
        f"to it. Waiting up to {wait:.0f} s for the outcome (Ctrl-C stops the waiting, not "
        "the request).",
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
            f"request #{request.id} is still {request.state}: the daemon carries it out "
            "between two writes of a full pass, or once the re-check or the SCIM "
            "provisioning it is running ends. `offboard cutoff requests` shows its outcome.",
            markup=False,
        )
        return ExitCode.INCOMPLETE
    console.print(f"request #{request.id} {request.state}: {request.outcome}", markup=False)
    return EXIT_FOR[request.state]
