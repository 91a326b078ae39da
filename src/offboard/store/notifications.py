"""The notifications already opened and sent, per condition and channel, in the store.

The daemon's leader reads them before deciding (``core.notifications.decide``) and writes
what it opened, sent, tried and cleared; every replica shares the store, so a restart or a
failover neither forgets a notification nor sends it twice. :class:`MemoryNotifications`
is the same for a store that is not ours (tests, fakes).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

from offboard.core.notifications import Record
from offboard.store.schema import notifications


class StoredNotifications:
    """The ``notifications`` table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def records(self) -> list[Record]:
        with self._engine.connect() as connection:
            rows = connection.execute(select(notifications)).mappings().all()
        return [Record(**dict(row)) for row in rows]

    def open(self, records: Iterable[Record]) -> None:
        rows = [_row(record) for record in records]
        if rows:
            with self._engine.begin() as connection:
                connection.execute(insert(notifications), rows)

    def seen(self, keys: Iterable[str], at: datetime) -> None:
        keys = list(keys)
        if keys:
            with self._engine.begin() as connection:
                connection.execute(
                    update(notifications)
                    .where(notifications.c.key.in_(keys))
                    .values(last_seen_at=at)
                )

    def sent(self, key: str, channel: str, at: datetime) -> None:
        self._set(key, channel, sent_at=at, attempts=notifications.c.attempts + 1)

    def failed(self, key: str, channel: str) -> None:
        self._set(key, channel, attempts=notifications.c.attempts + 1)

    def clear(self, pairs: Iterable[tuple[str, str]]) -> None:
        with self._engine.begin() as connection:
            for key, channel in pairs:
                connection.execute(delete(notifications).where(_one(key, channel)))

    def _set(self, key: str, channel: str, **values: object) -> None:
        with self._engine.begin() as connection:
            connection.execute(update(notifications).where(_one(key, channel)).values(**values))


class MemoryNotifications:
    """The same in memory (a store that is not a :class:`~offboard.store.SqlStore`)."""

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], Record] = {}

    def records(self) -> list[Record]:
        return list(self._rows.values())

    def open(self, records: Iterable[Record]) -> None:
        for record in records:
            self._rows[(record.key, record.channel)] = record

    def seen(self, keys: Iterable[str], at: datetime) -> None:
        wanted = set(keys)
        for pair, record in self._rows.items():
            if record.key in wanted:
                self._rows[pair] = replace(record, last_seen_at=at)

    def sent(self, key: str, channel: str, at: datetime) -> None:
        record = self._rows[(key, channel)]
        self._rows[(key, channel)] = replace(record, sent_at=at, attempts=record.attempts + 1)

    def failed(self, key: str, channel: str) -> None:
        record = self._rows[(key, channel)]
        self._rows[(key, channel)] = replace(record, attempts=record.attempts + 1)

    def clear(self, pairs: Iterable[tuple[str, str]]) -> None:
        for pair in pairs:
            self._rows.pop(pair, None)


def _one(key: str, channel: str) -> ColumnElement[bool]:
    return and_(notifications.c.key == key, notifications.c.channel == channel)


def _row(record: Record) -> dict[str, object]:
    return {
        "key": record.key,
        "channel": record.channel,
        "kind": record.kind,
        "opened_at": record.opened_at,
        "last_seen_at": record.last_seen_at,
        "sent_at": record.sent_at,
        "attempts": record.attempts,
    }
