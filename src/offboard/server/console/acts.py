"""The operator's acts from the console: the same service functions the CLI calls.

Every act is a POST with a reason, refused (403, nothing done) unless the logged-in person
may act; the login layer has already checked the form's CSRF token. The act runs, is
journaled by its service function with ``Act(actor=ConsoleUser.actor, reason)``, and the
browser is sent (303) to a page with the outcome. A refusal or an unreachable vendor is a
readable message there, never a 500.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

import httpx
import structlog
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from offboard.ports import OffboardError
from offboard.server.console.backend import ConsoleBackend
from offboard.server.console.layout import esc, page
from offboard.server.console_user import console_user, csrf_token
from offboard.server.login.signing import Signer
from offboard.service.operator import Act, OperatorRefusedError, Sides

log = structlog.get_logger(__name__)

MAX_FORM_BYTES = 64 * 1024
MAX_FIELD = 4000
KEPT_OUTCOMES = 200
OVERRIDE_FIELD = "override_guards"
"""The cut-off and lift forms' optional field: guards lifted for that one act."""

Form = Mapping[str, str]
Perform = Callable[[Form, Act, Sides, ConsoleBackend], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    message: str
    actor: str


class Outcomes:
    """The last outcomes, by an unguessable token, for the page the browser is sent to."""

    def __init__(self, keep: int = KEPT_OUTCOMES) -> None:
        self._kept: OrderedDict[str, Outcome] = OrderedDict()
        self._keep = keep

    def put(self, outcome: Outcome) -> str:
        token = secrets.token_urlsafe(12)
        self._kept[token] = outcome
        while len(self._kept) > self._keep:
            self._kept.popitem(last=False)
        return token

    def get(self, token: str) -> Outcome | None:
        return self._kept.get(token)


def refused(request: Request, message: str, status: int) -> Response:
    body = f"<p class='bad' data-testid='refused'>{esc(message)}</p><p><a href='/'>Back</a></p>"
    return HTMLResponse(page("Refused", body, console_user(request), refresh=False),
                        status_code=status)  # fmt: skip


async def read_form(request: Request) -> dict[str, str] | None:
    """The form's text fields, or None when it is too large or not a form."""
    declared = request.headers.get("content-length", "")
    if declared and (not declared.isdigit() or int(declared) > MAX_FORM_BYTES):
        return None
    body = b""
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                return None
    except (RuntimeError, ClientDisconnect):  # consumed before, or the client went away
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=50)
    except ValueError:
        return None
    return {name: value[:MAX_FIELD] for name, value in pairs}


def act_handler(
    perform: Perform, backend: ConsoleBackend, outcomes: Outcomes
) -> Callable[[Request], Awaitable[Response]]:
    """A POST endpoint: check who, read the form, act through ``perform``, redirect."""

    async def handle(request: Request) -> Response:
        user = console_user(request)
        if user is None or not user.can_act:
            return refused(request, "Only an operator may act; you can see, not change.", 403)
        form = await read_form(request)
        if form is None:
            return refused(request, "The form could not be read (too large or malformed).", 400)
        reason = form.get("reason", "").strip()
        if not reason:
            return refused(request, "Say why (the reason is journaled); nothing was done.", 400)
        if backend.sides is None:
            return refused(request, "This console has no store wired: it cannot act.", 503)
        act = Act(user.actor, reason)
        try:
            message = await perform(form, act, backend.sides, backend)
            outcome = Outcome(True, message, user.actor)
        except (OffboardError, httpx.HTTPError, ValueError) as error:
            outcome = Outcome(False, _said(error), user.actor)
        except Exception as error:
            log.exception("console act failed", act=request.url.path)
            outcome = Outcome(False, f"the act failed unexpectedly ({type(error).__name__}); "
                              "see the daemon's log", user.actor)  # fmt: skip
        token = outcomes.put(outcome)
        sealed = seal(outcome, _binding(request))
        return RedirectResponse(f"/act/outcome/{token}?{SEALED}={sealed}", status_code=303)

    return handle


def _said(error: Exception) -> str:
    if isinstance(error, OperatorRefusedError | OffboardError):
        return f"Refused: {error}"
    if isinstance(error, httpx.HTTPError):
        return f"A vendor could not be reached ({type(error).__name__}); nothing was changed."
    return f"Refused: {error}"


SEALED = "o"
"""The outcome's query field: the outcome itself, signed for the session that acted."""
MAX_SEALED = 1500
"""Characters of the message carried in the URL (the replica that acted keeps it whole)."""
OUTCOME = "offboard-outcome"
SEALED_TTL_S = 3600.0


def _binding(request: Request) -> tuple[str, str]:
    """What a sealed outcome is bound to: the session's CSRF token (a secret every replica
    reads from the store, never in a cookie) and the person it belongs to."""
    user = console_user(request)
    return csrf_token(request), user.subject if user is not None else ""


def seal(outcome: Outcome, binding: tuple[str, str]) -> str:
    """The outcome, signed (``login.signing.Signer``) for this session: the browser's GET of
    the outcome may reach another replica (two behind one Service), which has not got it
    in memory."""
    key, subject = binding
    message = outcome.message
    if len(message) > MAX_SEALED:
        message = message[: MAX_SEALED - 1] + "…"
    payload = {"ok": outcome.ok, "message": message, "actor": outcome.actor}
    return Signer(key).seal(f"{OUTCOME}\n{subject}", payload, SEALED_TTL_S)


def unseal(sealed: str, binding: tuple[str, str]) -> Outcome | None:
    """The outcome :func:`seal` made for this session, or None (another's, changed, old)."""
    key, subject = binding
    document = Signer(key).unseal(f"{OUTCOME}\n{subject}", sealed) if key else None
    if document is None:
        return None
    ok, message, actor = document.get("ok"), document.get("message"), document.get("actor")
    if not (isinstance(ok, bool) and isinstance(message, str) and isinstance(actor, str)):
        return None  # signed by us, but never trusted to be well formed
    return Outcome(ok, message, actor)


def outcome_page(outcomes: Outcomes) -> Callable[[Request], Awaitable[Response]]:
    async def show(request: Request) -> Response:
        outcome = outcomes.get(str(request.path_params.get("token", ""))) or unseal(
            request.query_params.get(SEALED, ""), _binding(request)
        )
        user = console_user(request)
        if outcome is None:
            body = "<p class='muted'>This outcome is no longer kept; see History.</p>"
            return HTMLResponse(page("Outcome", body, user, refresh=False), status_code=404)
        css = "ok" if outcome.ok else "bad"
        body = (
            f"<p class='{css}' data-testid='outcome' data-ok='{str(outcome.ok).lower()}'>"
            f"{esc(outcome.message)}</p><p class='muted'>By {esc(outcome.actor)}.</p>"
            "<p><a href='/'>Needs attention</a> · <a href='/history'>History</a></p>"
        )
        return HTMLResponse(page("Outcome", body, user, refresh=False))

    return show
