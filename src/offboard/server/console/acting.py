"""Under which lease a console act writes to Atlassian.

The console lives in the daemon's process. When that daemon leads, an act writes under the
daemon's own lease (its fencing token) and holds the daemon's pass gate exclusively, as a
full reconciliation does, so that no pass acts on the same people at the same moment.
A cut-off or a lift does not wait for a running full pass: it runs between two of the
pass's writes (``PassGate.interlude``). When nobody leads, the act takes the lease for
itself, as the CLI does. When another process leads, :class:`LeaderBusyError` says so and
each act decides (record and leave it to the leader, or refuse).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import timedelta

from offboard.executor.preflight import Preflight
from offboard.service.acting import LeaderBusyError, acting_lease
from offboard.service.gate import PassGate
from offboard.service.leasing import Lease
from offboard.service.operator import Sides

Interlude = tuple[str, Iterable[str]]
"""Why, and the person and accounts a one-person act touches (``PassGate.interlude``)."""
GATE_WAIT = 20.0
"""Seconds an act waits for a running full pass to finish before giving up."""


@dataclass(frozen=True, slots=True)
class Leadership:
    """This process's daemon: its lease and its pass gate."""

    lease: Lease
    gate: PassGate


@contextlib.asynccontextmanager
async def acting(
    sides: Sides,
    leadership: Leadership | None,
    lease_ttl: timedelta,
    reconfirm_after: timedelta | None,
    *,
    gate_wait: float = GATE_WAIT,
    one_person: Interlude | None = None,
) -> AsyncIterator[Preflight]:
    """The checks every write of a console act makes (fence and re-confirmation).
    ``one_person`` (who acts, and the person and accounts): a one-person act that runs
    between a full pass's writes instead of waiting for the pass (``PassGate.interlude``)."""
    fence = leadership.lease.fence if leadership is not None else None
    if leadership is not None and leadership.lease.held and fence is not None:
        gate = leadership.gate
        held = gate.exclusive() if one_person is None else gate.interlude(*one_person)
        async with contextlib.AsyncExitStack() as stack:
            try:
                async with asyncio.timeout(gate_wait):
                    await stack.enter_async_context(held)
            except TimeoutError:
                raise LeaderBusyError(
                    "the daemon is in the middle of a full reconciliation; try again in a minute"
                ) from None
            yield Preflight(fence, sides.source, reconfirm_after)
        return
    async with acting_lease(sides.store, sides.clock, lease_ttl) as own:
        yield Preflight(own, sides.source, reconfirm_after)
