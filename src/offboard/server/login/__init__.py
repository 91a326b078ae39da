"""The console's login: OpenID Connect against the company's Keycloak, server-side sessions
behind a signed cookie, and CSRF checks on every form (see docs/howto/console-login.md).

``build_login(settings.console, engine)`` gives the :class:`ConsoleLogin` that
``create_app`` puts in front of the operations listener; None when ``[console]`` is not
configured, and then only the probes answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from sqlalchemy.engine import Engine

from offboard.server.console_user import ConsoleUser
from offboard.server.login.flow import LoginFlow
from offboard.server.login.guard import PROBES, LoginGuard
from offboard.server.login.oidc import LoginError, OidcClient
from offboard.server.login.sessions import SESSION_COOKIE, RoleNames, SessionKeeper
from offboard.server.login.signing import Signer
from offboard.settings.console import ConsoleSettings
from offboard.store.console_sessions import ConsoleSessions

__all__ = [
    "PROBES",
    "SESSION_COOKIE",
    "ConsoleLogin",
    "LoginError",
    "LoginGuard",
    "build_login",
]


@dataclass(frozen=True)
class ConsoleLogin:
    """The login's routes and sessions, as ``create_app`` mounts them."""

    flow: LoginFlow
    sessions: SessionKeeper

    def open_session(
        self, user: ConsoleUser, id_token: str = "", csrf_token: str | None = None
    ) -> dict[str, str]:
        """Open a session for ``user`` without Keycloak and return the cookie that names it
        (``csrf_token``: a chosen token instead of a random one). For tests that must reach
        the console in-process; the browser tests log in through the real Keycloak."""
        cookie = self.sessions.open(user, id_token, datetime.now(UTC), csrf_token)
        return {SESSION_COOKIE: cookie}


def build_login(
    settings: ConsoleSettings,
    engine: Engine,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ConsoleLogin | None:
    """The login for ``settings`` with sessions in the store behind ``engine``."""
    if settings.issuer is None:
        return None
    assert settings.client_secret is not None  # the settings refuse an issuer without them
    assert settings.session_secret is not None
    signer = Signer(settings.session_secret.get_secret_value())
    keeper = SessionKeeper(
        signer,
        ConsoleSessions(engine),
        idle=settings.session_idle,
        lifetime=settings.session_lifetime,
        secure=settings.secure_cookies,
    )
    oidc = OidcClient(
        settings.issuer,
        settings.client_id,
        settings.client_secret.get_secret_value(),
        settings.callback_url,
        transport=transport,
    )
    roles = RoleNames(settings.viewer_role, settings.operator_role)
    flow = LoginFlow(
        oidc,
        keeper,
        signer,
        roles,
        public_url=settings.public_url,
        secure=settings.secure_cookies,
    )
    return ConsoleLogin(flow, keeper)
