"""Operator acts handed to the leading daemon, in the store (``core.operator_requests``).

The command line queues a request and watches it; the leader takes the oldest queued one
(one conditional UPDATE: two replicas never take the same request), carries it out and
writes the outcome. Every replica shares the store, so a failover loses no request: one
taken by a leader that died is marked interrupted by the next (its action, if one was
sent, is settled by the journal's recovery like any other).
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import and_, insert, select, update
from sqlalchemy.engine import Engine, RowMapping

from offboard.core.operator_requests import (
    OperatorRequest,
    RequestKind,
    RequestState,
)
from offboard.store.schema import leases, operator_requests

_TABLE = operator_requests


class StoredRequests:
    """The ``operator_requests`` table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def queue(
        self,
        kind: RequestKind,
        person: str,
        *,
        actor: str,
        reason: str,
        overrides: tuple[str, ...],
        at: datetime,
    ) -> OperatorRequest:
        """A new request, queued for the leader."""
        values = {
            "kind": kind.value, "person": person, "actor": actor, "reason": reason,
            "overrides": json.dumps(list(overrides)), "requested_at": at,
            "state": RequestState.QUEUED.value, "outcome": "",
        }  # fmt: skip
        with self._engine.begin() as connection:
            key = connection.execute(insert(_TABLE).values(**values)).inserted_primary_key
        assert key is not None
        found = self.get(int(key[0]))
        assert found is not None
        return found

    def get(self, request_id: int) -> OperatorRequest | None:
        with self._engine.connect() as connection:
            row = connection.execute(select(_TABLE).where(_TABLE.c.id == request_id)).mappings()
            found = row.first()
        return None if found is None else _request(found)

    def recent(self, limit: int) -> list[OperatorRequest]:
        """The newest ``limit`` requests, newest first."""
        with self._engine.connect() as connection:
            rows = connection.execute(
                select(_TABLE).order_by(_TABLE.c.id.desc()).limit(limit)
            ).mappings()
            return [_request(row) for row in rows]

    def take_next(self, at: datetime) -> OperatorRequest | None:
        """The oldest queued request, now taken by the caller; None when none is queued."""
        while True:
            with self._engine.connect() as connection:
                oldest = connection.scalar(
                    select(_TABLE.c.id)
                    .where(_TABLE.c.state == RequestState.QUEUED.value)
                    .order_by(_TABLE.c.id)
                    .limit(1)
                )
            if oldest is None:
                return None
            with self._engine.begin() as connection:
                taken = connection.execute(
                    update(_TABLE)
                    .where(and_(_TABLE.c.id == oldest, _TABLE.c.state == RequestState.QUEUED.value))
                    .values(state=RequestState.TAKEN.value, taken_at=at)
                )
            if taken.rowcount == 1:
                return self.get(oldest)
            # Another replica took it between the two statements: look again.

    def finish(self, request_id: int, state: RequestState, outcome: str, at: datetime) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                update(_TABLE)
                .where(_TABLE.c.id == request_id)
                .values(state=state.value, outcome=outcome, finished_at=at)
            )

    def interrupt_taken(self, at: datetime) -> int:
        """Mark every request a leader had taken as interrupted (called by a new leader, before
        it takes any: a taken request of a live leader cannot exist then). How many."""
        outcome = (
            "the daemon carrying it out stopped before it finished: see `offboard journal "
            "runs` for what was sent, and ask again if the access is still there"
        )
        with self._engine.begin() as connection:
            done = connection.execute(
                update(_TABLE)
                .where(_TABLE.c.state == RequestState.TAKEN.value)
                .values(state=RequestState.INTERRUPTED.value, outcome=outcome, finished_at=at)
            )
        return int(done.rowcount)

    def leader(self, lease_name: str, now: datetime) -> str | None:
        """Who holds the lease ``lease_name`` now (None when nobody does)."""
        with self._engine.connect() as connection:
            return connection.scalar(
                select(leases.c.holder).where(
                    and_(leases.c.name == lease_name, leases.c.expires_at > now)
                )
            )


def _request(row: RowMapping) -> OperatorRequest:
    return OperatorRequest(
        id=row["id"],
        kind=RequestKind(row["kind"]),
        person=row["person"],
        actor=row["actor"],
        reason=row["reason"],
        overrides=tuple(json.loads(row["overrides"])),
        requested_at=row["requested_at"],
        state=RequestState(row["state"]),
        outcome=row["outcome"],
        taken_at=row["taken_at"],
        finished_at=row["finished_at"],
    )
