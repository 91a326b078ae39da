"""The console's login sessions, server-side: a logout deletes the row (so the cookie is
worthless everywhere at once), and every replica sharing the store knows every session.

Rows are keyed by a hash of the session id, never the id itself: someone who reads the
database cannot replay a cookie from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.engine import Engine

from offboard.store.schema import console_sessions

TOUCH_EVERY = timedelta(minutes=1)
"""``last_seen_at`` is written at most this often, not on every request."""


@dataclass(frozen=True)
class SessionRecord:
    """Who a session belongs to, its CSRF token, and its clock."""

    subject: str
    username: str
    name: str
    email: str | None
    roles: frozenset[str]
    csrf_token: str
    id_token: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    refresh_token: str = field(default="", repr=False)
    """Keycloak's, to ask it again before each act; empty for a session opened before 0011."""


class ConsoleSessions:
    """Open, find (idle and absolute expiry applied), close and prune console sessions."""

    def __init__(
        self, engine: Engine, now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._engine = engine
        self._now = now

    def open(self, key: str, record: SessionRecord) -> None:
        """Record a new session under ``key`` (a hash of its id)."""
        row = {
            "id_hash": key,
            "subject": record.subject,
            "username": record.username,
            "name": record.name,
            "email": record.email,
            "roles": ",".join(sorted(record.roles)),
            "csrf_token": record.csrf_token,
            "id_token": record.id_token,
            "created_at": record.created_at,
            "last_seen_at": record.last_seen_at,
            "expires_at": record.expires_at,
            "refresh_token": record.refresh_token or None,
        }
        with self._engine.begin() as connection:
            connection.execute(insert(console_sessions).values(**row))

    def renew(self, key: str, refresh_token: str, roles: frozenset[str]) -> None:
        """Keycloak's answer to a re-check: its new refresh token and the roles it grants now."""
        values = {"refresh_token": refresh_token, "roles": ",".join(sorted(roles))}
        with self._engine.begin() as connection:
            where = console_sessions.c.id_hash == key
            connection.execute(update(console_sessions).where(where).values(**values))

    def find(self, key: str, idle: timedelta) -> SessionRecord | None:
        """The live session under ``key``, or None (unknown, idle too long, or past its end).
        A found session counts as used now."""
        now = self._now()
        where = console_sessions.c.id_hash == key
        with self._engine.begin() as connection:
            row = connection.execute(select(console_sessions).where(where)).mappings().first()
            if row is None:
                return None
            record = _record(row)
            if now >= record.expires_at or now >= record.last_seen_at + idle:
                connection.execute(delete(console_sessions).where(where))
                return None
            if now - record.last_seen_at >= TOUCH_EVERY:
                connection.execute(update(console_sessions).where(where).values(last_seen_at=now))
        return record

    def close(self, key: str) -> SessionRecord | None:
        """End the session under ``key``; returns what it was (None if there was none)."""
        where = console_sessions.c.id_hash == key
        with self._engine.begin() as connection:
            row = connection.execute(select(console_sessions).where(where)).mappings().first()
            connection.execute(delete(console_sessions).where(where))
        return _record(row) if row is not None else None

    def prune(self, idle: timedelta | None = None) -> int:
        """Delete sessions past their end (and, given ``idle``, unused that long)."""
        now = self._now()
        expired = console_sessions.c.expires_at <= now
        if idle is not None:
            expired = or_(expired, console_sessions.c.last_seen_at <= now - idle)
        with self._engine.begin() as connection:
            return connection.execute(delete(console_sessions).where(expired)).rowcount


def _record(row: object) -> SessionRecord:
    values = dict(row)  # type: ignore[call-overload]
    roles = frozenset(r for r in str(values["roles"]).split(",") if r)
    return SessionRecord(
        subject=values["subject"],
        username=values["username"],
        name=values["name"],
        email=values["email"],
        roles=roles,
        csrf_token=values["csrf_token"],
        id_token=values["id_token"],
        created_at=values["created_at"],
        last_seen_at=values["last_seen_at"],
        expires_at=values["expires_at"],
        refresh_token=values.get("refresh_token") or "",
    )
