"""The lease for a one-shot command that acts (``offboard apply``, ``deactivate``, ...).

A command-line apply changes Atlassian as a daemon does, so it takes the same leader lease
for as long as it acts, and its writes carry the same fencing token checks. While a daemon
leads, a command-line apply is refused (the daemon is already acting on the same people;
two actors would race). While a command-line apply holds the lease, daemons stand by and
take over (with a new token) once it is released.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

from offboard.ports import Clock, Fence, OffboardError
from offboard.service.leasing import Lease, LeaseStore, default_holder

CLI_HOLDER = "cli:"
"""How a command-line act's lease holder begins (a daemon's is its host and a random tail)."""


class LeaderBusyError(OffboardError):
    """Another process (a daemon, or another apply) holds the lease: this one must not act."""


@contextlib.asynccontextmanager
async def acting_lease(store: LeaseStore, clock: Clock, ttl: timedelta) -> AsyncIterator[Fence]:
    """Hold the lease while the body acts, renewing it; yields the fence its writes carry."""
    lease = Lease(store, clock, holder=f"{CLI_HOLDER}{default_holder()}", ttl=ttl)
    if not await asyncio.to_thread(lease.refresh) or lease.fence is None:
        raise LeaderBusyError(
            "another offboard process (a running daemon, or another apply) holds the leader "
            "lease in this store, so this command does not act: the daemon applies the same "
            "rules by itself. To act by hand, stop the daemon (or wait for the other apply) "
            f"and try again; a killed daemon's lease runs out within {ttl.total_seconds():.0f} s"
        )
    renewing = asyncio.create_task(_renew(lease), name="lease-renewal")
    try:
        yield lease.fence
    finally:
        renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewing
        await asyncio.to_thread(lease.release)


async def _renew(lease: Lease) -> None:
    """Renew until cancelled; a lost lease shows at the next fenced write, which then stops."""
    while True:
        await asyncio.sleep(lease.renew_every)
        if not await asyncio.to_thread(lease.refresh):
            return
