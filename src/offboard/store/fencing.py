"""The fence every write of a leader's transaction holds (see ``Store.fence_holds``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, bindparam, update
from sqlalchemy.engine import Connection

from offboard.ports import Fence, FenceLostError
from offboard.store.schema import leases


def hold_fence(
    connection: Connection, fence: Fence | None, *, unexpired_at: datetime | None = None
) -> None:
    """Refuse the transaction unless the fence's holder and token are still the lease's
    (and, given ``unexpired_at``, the lease runs past that moment of the writer's clock).

    A no-op UPDATE rather than a SELECT: it locks the lease row (PostgreSQL) or takes the
    write lock (SQLite) until commit, so no take-over can slip between check and write.
    Without ``unexpired_at`` only a take-over, which bumps the token, makes a fence stale;
    with it, a lease that ran out before anyone took over does too (as ``fence_holds``):
    what is about to be sent is checked so, the records of what was sent are not.
    """
    if fence is None:
        return
    values = {"fence_name": fence.name, "fence_holder": fence.holder, "fence_token": fence.token}
    if unexpired_at is not None:
        values["unexpired_at"] = unexpired_at
    statement = _HOLD_UNEXPIRED if unexpired_at is not None else _HOLD
    if connection.execute(statement, values).rowcount != 1:
        why = "it was taken over since (by another replica, or by this one after it ran out)"
        why += ", or the lease ran out" if unexpired_at else ""
        raise FenceLostError(
            f"lease {fence.name!r} is no longer held by {fence.holder} with token {fence.token}:"
            f" {why}, so this one records and sends nothing more"
        )


# Built once (every admission's transaction runs one); the values are bound parameters.
_MINE = and_(
    leases.c.name == bindparam("fence_name"),
    leases.c.holder == bindparam("fence_holder"),
    leases.c.token == bindparam("fence_token"),
)
_HOLD = update(leases).where(_MINE).values(token=leases.c.token)
_HOLD_UNEXPIRED = (
    update(leases)
    .where(_MINE, leases.c.expires_at > bindparam("unexpired_at"))
    .values(token=leases.c.token)
)
