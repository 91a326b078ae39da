"""The login's routes under ``/auth/``: ``login`` (off to Keycloak), ``callback`` (back with
a code), ``logout`` (a page with a button, then the POST that ends both sessions) and
``logged-out``.

Between ``login`` and ``callback`` the state, nonce and PKCE verifier travel in a short-lived
signed cookie, so any replica can finish a login another one started.
"""

from __future__ import annotations

import asyncio
import hmac
from datetime import UTC, datetime

import structlog
from authlib.common.security import generate_token
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from offboard.server.console_user import CSRF_FIELD, OPERATOR, ConsoleUser
from offboard.server.login.oidc import LoginEndedError, LoginError, OidcClient
from offboard.server.login.pages import message_page
from offboard.server.login.sessions import RoleNames, Session, SessionKeeper
from offboard.server.login.signing import PENDING_LOGIN, Signer

log = structlog.get_logger(__name__)

PENDING_COOKIE = "offboard_login"
PENDING_TTL_S = 600
"""Ten minutes to type a password at Keycloak before the login must start again."""


class LoginFlow:
    """The routes, given the OIDC client, the session keeper and the role names."""

    def __init__(
        self,
        oidc: OidcClient,
        sessions: SessionKeeper,
        signer: Signer,
        roles: RoleNames,
        *,
        public_url: str,
        secure: bool,
    ) -> None:
        self.oidc = oidc
        self.sessions = sessions
        self._signer = signer
        self._roles = roles
        self._public_url = public_url
        self._secure = secure

    def routes(self) -> list[Route]:
        return [
            Route("/auth/login", self.login, methods=["GET"]),
            Route("/auth/callback", self.callback, methods=["GET"]),
            Route("/auth/logout", self.logout_page, methods=["GET"]),
            Route("/auth/logout", self.logout, methods=["POST"]),
            Route("/auth/logged-out", self.logged_out, methods=["GET"]),
        ]

    async def login(self, request: Request) -> Response:
        state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
        try:
            url = await self.oidc.authorization_url(state, nonce, verifier)
        except LoginError as error:
            return message_page("Login unavailable", str(error), status=502)
        pending = {"state": state, "nonce": nonce, "verifier": verifier}
        pending["next"] = local_path(request.query_params.get("next"))
        response = RedirectResponse(url, status_code=303)
        response.set_cookie(
            PENDING_COOKIE,
            self._signer.seal(PENDING_LOGIN, pending, PENDING_TTL_S),
            max_age=PENDING_TTL_S,
            path="/auth/",
            httponly=True,
            samesite="lax",
            secure=self._secure,
        )
        return response

    async def callback(self, request: Request) -> Response:
        sealed = request.cookies.get(PENDING_COOKIE, "")
        pending = self._signer.unseal(PENDING_LOGIN, sealed) if sealed else None
        state = request.query_params.get("state", "")
        if pending is None or not _same(str(pending.get("state", "")), state):
            return self._again("The login expired or did not start here.", status=400)
        if "error" in request.query_params:
            return self._again("Keycloak did not log you in.", status=400)
        code = request.query_params.get("code", "")
        try:
            identity = await self.oidc.redeem(code, str(pending["verifier"]), str(pending["nonce"]))
        except LoginError as error:
            log.warning("console login refused", reason=str(error))
            return self._again(f"The login failed: {error}.", status=400)
        roles = self._roles.console_roles(identity.client_roles)
        log.info("console login", username=identity.username, roles=sorted(roles))
        if not roles:
            return self._refused(identity.username)
        user = ConsoleUser(
            identity.subject, identity.username, identity.name, identity.email, roles
        )
        if not identity.refresh_token:
            log.warning(
                "console login without a refresh token: acts are not re-checked with Keycloak",
                client=self.oidc.client_id,
                what_to_do="turn 'Use refresh tokens' on in the client's advanced settings",
            )
        now = datetime.now(UTC)
        cookie = await asyncio.to_thread(
            self.sessions.open, user, identity.id_token, now, None, identity.refresh_token
        )
        response = RedirectResponse(str(pending.get("next") or "/"), status_code=303)
        self.sessions.set_cookie(response, cookie)
        response.delete_cookie(PENDING_COOKIE, path="/auth/")
        return response

    async def recheck(self, session: Session) -> tuple[int, str] | None:
        """Before an act, Keycloak is asked again (the session's refresh token) whether this
        person is still enabled and still an operator: roles read at login would otherwise
        outlive a leaver's disable or a revoked role for a whole session. None when they may
        act; else the status and why. Keycloak unreachable: refused (503), never assumed."""
        if not session.refresh_token:
            return None  # Keycloak gave none at login (logged then): nothing to ask with
        who = session.user.username
        try:
            identity = await self.oidc.refresh(session.refresh_token, session.user.subject)
        except LoginEndedError as error:
            await self.sessions.end(session)
            log.warning("console session ended by keycloak", username=who, reason=str(error))
            return 401, (
                "Keycloak no longer vouches for your login (the account was disabled or "
                "deleted, or its Keycloak session ended): nothing was done. Log in again."
            )
        except LoginError as error:
            log.warning("console act not re-checked", username=who, reason=str(error))
            return 503, (
                f"Keycloak could not be asked whether you may still act ({error}): nothing "
                "was done. Try again in a moment, or act from the command line."
            )
        roles = self._roles.console_roles(identity.client_roles)
        if not roles:
            await self.sessions.end(session)
        else:
            await self.sessions.renew(session, identity.refresh_token, roles)
        if OPERATOR not in roles:
            log.warning("console act refused: role gone", username=who, roles=sorted(roles))
            return 403, (
                f"Keycloak no longer grants you the '{self._roles.operator}' role: nothing was "
                "done; you may still look while you hold the viewer role."
            )
        return None

    async def logout_page(self, request: Request) -> Response:
        token = getattr(request.state, "csrf_token", "")
        form = (
            "<form method='post' action='/auth/logout'>"
            f"<input type='hidden' name='{CSRF_FIELD}' value='{token}'>"
            "<button type='submit'>Log out</button></form>"
        )
        return message_page("Log out", "End your console session and your Keycloak login.", form)

    async def logout(self, request: Request) -> Response:
        session = getattr(request.state, "console_session", None)
        id_token = await self.sessions.end(session) if isinstance(session, Session) else None
        if isinstance(session, Session):
            log.info("console logout", username=session.user.username)
        after = f"{self._public_url}/auth/logged-out"
        target = await self.oidc.logout_url(id_token, after) or after
        response = RedirectResponse(target, status_code=303)
        self.sessions.clear_cookie(response)
        return response

    async def logged_out(self, request: Request) -> Response:
        link = "<p><a href='/auth/login'>Log in again</a></p>"
        return message_page("Logged out", "Your console session has ended.", link)

    def _again(self, why: str, *, status: int) -> Response:
        link = "<p><a href='/auth/login'>Log in again</a></p>"
        response = message_page("Login failed", why, link, status=status)
        response.delete_cookie(PENDING_COOKIE, path="/auth/")
        return response

    def _refused(self, username: str) -> HTMLResponse:
        why = (
            f"Keycloak knows you as {username}, but you have neither the "
            f"'{self._roles.viewer}' nor the '{self._roles.operator}' role of the client "
            f"'{self.oidc.client_id}'. Ask an identity admin to grant one; no session was opened."
        )
        response = message_page("No access to the console", why, status=403)
        response.delete_cookie(PENDING_COOKIE, path="/auth/")
        return response


def local_path(target: str | None) -> str:
    """Only a path on this site (never ``//host`` or a URL): no open redirect after login."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _same(expected: str, given: str) -> bool:
    return bool(expected) and hmac.compare_digest(expected.encode(), given.encode())
