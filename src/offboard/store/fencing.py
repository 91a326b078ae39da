"""The fence every write of a leader's transaction holds (see ``Store.fence_holds``)."""

from __future__ import annotations

from sqlalchemy import and_, update
from sqlalchemy.engine import Connection

from offboard.ports import Fence, FenceLostError
from offboard.store.schema import leases


def hold_fence(connection: Connection, fence: Fence | None) -> None:
    """Refuse the transaction unless the fence's holder and token are still the lease's.

    A no-op UPDATE rather than a SELECT: it locks the lease row (PostgreSQL) or takes the
    write lock (SQLite) until commit, so no take-over can slip between check and write.
    Expiry is not judged here (the writer's clock is not the store's): only a take-over,
    which bumps the token, makes a fence stale.
    """
    if fence is None:
        return
    mine = and_(
        leases.c.name == fence.name,
        leases.c.holder == fence.holder,
        leases.c.token == fence.token,
    )
    if connection.execute(update(leases).where(mine).values(token=leases.c.token)).rowcount != 1:
        raise FenceLostError(
            f"lease {fence.name!r} is no longer held by {fence.holder} with token {fence.token}:"
            " another process has taken over, so this one records and sends nothing more"
        )
