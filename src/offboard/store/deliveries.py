"""Webhook delivery ids kept in the store: a captured delivery replayed after a restart is
still recognised. Only the acceptance window needs remembering (older deliveries are refused
by their time), so ids older than ``keep`` are pruned as new ones arrive."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from offboard.store.schema import webhook_deliveries

PRUNE_EVERY = 500
"""Deliveries between two prunes of expired ids."""


class StoredDeliveries:
    """``first_time``/``forget`` (the webhook receiver's replay memory) over the store."""

    def __init__(
        self,
        engine: Engine,
        keep: timedelta,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._engine = engine
        self._keep = keep
        self._now = now
        self._since_prune = PRUNE_EVERY  # prune on the first delivery after a start

    def first_time(self, delivery_id: str) -> bool:
        """True (and remembered) the first time an id is offered; False for a replay."""
        now = self._now()
        self._prune(now)
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    insert(webhook_deliveries).values(delivery_id=delivery_id, seen_at=now)
                )
        except IntegrityError:
            return False
        return True

    def forget(self, delivery_id: str) -> None:
        """Drop an id whose delivery was refused and will be retried."""
        where = webhook_deliveries.c.delivery_id == delivery_id
        with self._engine.begin() as connection:
            connection.execute(webhook_deliveries.delete().where(where))

    def _prune(self, now: datetime) -> None:
        self._since_prune += 1
        if self._since_prune < PRUNE_EVERY:
            return
        self._since_prune = 0
        expired = webhook_deliveries.c.seen_at < now - self._keep
        with self._engine.begin() as connection:
            connection.execute(webhook_deliveries.delete().where(expired))
