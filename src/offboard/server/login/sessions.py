"""Console sessions as the browser and the store see them: a signed cookie holding a random
id, and a server-side record (keyed by the id's hash) holding who it is and its CSRF token.

The cookie alone is worth nothing: the record must exist (a logout deletes it), be within
its idle and absolute times, and the signature must match the current secret.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response

from offboard.server.console_user import OPERATOR, VIEWER, ConsoleUser
from offboard.server.login.signing import SESSION, Signer, new_token, storage_key
from offboard.store.console_sessions import ConsoleSessions, SessionRecord

SESSION_COOKIE = "offboard_session"


@dataclass(frozen=True)
class RoleNames:
    """Which Keycloak client roles mean the console's viewer and operator."""

    viewer: str
    operator: str

    def console_roles(self, client_roles: frozenset[str]) -> frozenset[str]:
        """The console roles granted; an operator also views."""
        if self.operator in client_roles:
            return frozenset({VIEWER, OPERATOR})
        return frozenset({VIEWER}) if self.viewer in client_roles else frozenset()


@dataclass(frozen=True)
class Session:
    """A live session: the person and the CSRF token their forms carry."""

    user: ConsoleUser
    csrf_token: str
    key: str
    refresh_token: str = field(default="", repr=False)
    """Keycloak's refresh token, to ask it again before an act (``LoginFlow.recheck``)."""


class SessionKeeper:
    """Open, read and end sessions; ``secure`` marks the cookie for https only."""

    def __init__(
        self,
        signer: Signer,
        records: ConsoleSessions,
        *,
        idle: timedelta,
        lifetime: timedelta,
        secure: bool,
    ) -> None:
        self._signer = signer
        self._records = records
        self._idle = idle
        self._lifetime = lifetime
        self._secure = secure

    def open(
        self,
        user: ConsoleUser,
        id_token: str,
        now: datetime,
        csrf_token: str | None = None,
        refresh_token: str = "",
    ) -> str:
        """Record a session for ``user`` and return the cookie value that names it."""
        session_id = new_token()
        record = SessionRecord(
            subject=user.subject,
            username=user.username,
            name=user.name,
            email=user.email,
            roles=user.roles,
            csrf_token=csrf_token or new_token(),
            id_token=id_token,
            created_at=now,
            last_seen_at=now,
            expires_at=now + self._lifetime,
            refresh_token=refresh_token,
        )
        self._records.prune(self._idle)  # the ended ones go as new ones come
        self._records.open(storage_key(session_id), record)
        return self._signer.sign(SESSION, session_id)

    async def current(self, request: Request) -> Session | None:
        """The request's live session, or None."""
        cookie = request.cookies.get(SESSION_COOKIE)
        session_id = self._signer.unsign(SESSION, cookie) if cookie else None
        if session_id is None:
            return None
        key = storage_key(session_id)
        record = await asyncio.to_thread(self._records.find, key, self._idle)
        if record is None:
            return None
        user = ConsoleUser(record.subject, record.username, record.name, record.email, record.roles)
        return Session(user, record.csrf_token, key, record.refresh_token)

    async def renew(self, session: Session, refresh_token: str, roles: frozenset[str]) -> None:
        """Keep what Keycloak said on a re-check: its new refresh token, the roles now."""
        await asyncio.to_thread(self._records.renew, session.key, refresh_token, roles)

    async def end(self, session: Session) -> str | None:
        """Delete the session everywhere; returns its ID token (for Keycloak's logout)."""
        record = await asyncio.to_thread(self._records.close, session.key)
        return record.id_token if record is not None else None

    def set_cookie(self, response: Response, value: str) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            value,
            max_age=int(self._lifetime.total_seconds()),
            httponly=True,
            samesite="lax",
            secure=self._secure,
        )

    def clear_cookie(self, response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax", secure=self._secure)
