"""The gate in front of the operations listener's app (pure ASGI middleware).

- The probes (``/healthz``, ``/readyz``, ``/leaderz``, ``/metrics``) always answer: they carry
  no personal data and Kubernetes and Prometheus read them without a login.
- The login's own pages (``/auth/login``, ``/auth/callback``, ``/auth/logged-out``) answer.
- Everything else needs a live session: a browser is sent to the login, anything else gets
  401. The session's person and CSRF token go on ``request.state`` (see console_user.py).
- Every POST/PUT/PATCH/DELETE must be an urlencoded form carrying the session's CSRF token
  in the field ``csrf_token`` (exactly once) and, except the logout, come from an operator;
  otherwise 403, and nothing is done. Before it reaches the app, Keycloak is asked again
  whether that operator is still enabled and still an operator (``recheck``).
- Without a configured login, nothing but the probes is served (a page says how to set it up).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, quote

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from offboard.server.console_user import CSRF_FIELD
from offboard.server.login.pages import NOT_CONFIGURED, message_page
from offboard.server.login.sessions import Session, SessionKeeper

PROBES = frozenset({"/healthz", "/readyz", "/leaderz", "/metrics"})
LOGIN_PAGES = frozenset({"/auth/login", "/auth/callback", "/auth/logged-out"})
LOGOUT = "/auth/logout"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_FORM_BYTES = 1 << 20
"""A console form is a few fields; a larger body is refused before it is parsed."""
MAX_FIELDS = 100
FORM_TYPE = "application/x-www-form-urlencoded"
Recheck = Callable[[Session], Awaitable[tuple[int, str] | None]]
"""Asks Keycloak again before an act (``LoginFlow.recheck``): None, or a status and why."""


class LoginGuard:
    """Wrap ``app``; ``keeper`` None means no login is configured. ``also_open`` paths carry
    their own authentication (the webhook, when tests mount it on this listener)."""

    def __init__(
        self,
        app: ASGIApp,
        keeper: SessionKeeper | None,
        also_open: frozenset[str] = frozenset(),
        recheck: Recheck | None = None,
    ) -> None:
        self._app = app
        self._keeper = keeper
        self._recheck = recheck
        self._open = PROBES | also_open | (LOGIN_PAGES if keeper is not None else frozenset())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":  # the console has none: refuse before any app sees it
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http" or scope["path"] in self._open:
            await self._app(scope, receive, send)
            return
        request = Request(scope)
        if self._keeper is None:
            await _refusal(request, 403, NOT_CONFIGURED, "Console not configured")(
                scope, receive, send
            )
            return
        session = await self._keeper.current(request)
        if session is None:
            await _without_session(request)(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state.update(console_user=session.user, csrf_token=session.csrf_token)
        state["console_session"] = session
        if request.method in UNSAFE_METHODS:
            checked = await _checked_form(request, receive, session)
            if isinstance(checked, Response):
                await checked(scope, receive, send)
                return
            receive = checked
            if self._recheck is not None and request.url.path != LOGOUT:
                refused = await self._recheck(session)
                if refused is not None:
                    status, why = refused
                    await _refusal(request, status, why, "Refused")(scope, receive, send)
                    return
        await self._app(scope, receive, _private(send))


def _without_session(request: Request) -> Response:
    """A browser goes to the login (and comes back here); anything else is told 401."""
    if request.url.path == LOGOUT:
        return RedirectResponse("/auth/logged-out", status_code=303)
    if request.method == "GET" and _wants_html(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/auth/login?next={quote(target, safe='')}", status_code=303)
    return _refusal(request, 401, "Log in first: /auth/login", "Login required")


async def _checked_form(request: Request, receive: Receive, session: Session) -> Response | Receive:
    """The CSRF token and the role checked; a receive that replays the body to the app."""
    body = b""
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return Response(status_code=400)
        body += message.get("body", b"")
        more = message.get("more_body", False)
        if len(body) > MAX_FORM_BYTES:
            return _refusal(request, 413, "The form is too large.", "Too large")
    token = _form_token(request.headers.get("content-type", ""), body)
    if token is None or not hmac.compare_digest(token.encode(), session.csrf_token.encode()):
        why = "The form's CSRF token is missing or wrong: reload the page and try again."
        return _refusal(request, 403, why, "Refused")
    if request.url.path != LOGOUT and not session.user.can_act:
        why = "You may look but not act: acting needs the console's operator role."
        return _refusal(request, 403, why, "Refused")
    return _replaying(body)


def _form_token(content_type: str, body: bytes) -> str | None:
    """The token from an urlencoded form (what every console form sends). Other bodies
    carry none: a cross-site page can send those too, so they are refused."""
    if content_type.split(";")[0].strip().lower() != FORM_TYPE:
        return None
    try:
        fields = parse_qs(body.decode("utf-8"), max_num_fields=MAX_FIELDS, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        return None
    values = fields.get(CSRF_FIELD, [])
    return values[0] if len(values) == 1 and values[0] else None


def _replaying(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _private(send: Send) -> Send:
    """Pages behind the login are never cached or framed (no clickjacking of a form)."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            headers.setdefault("cache-control", "no-store")
            headers.setdefault("x-frame-options", "DENY")
        await send(message)

    return sending


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _refusal(request: Request, status: int, why: str, title: str) -> Response:
    if _wants_html(request):
        return message_page(title, why, status=status)
    return JSONResponse({"error": why}, status_code=status)
