"""The login's gate in front of the operations listener: what answers without a session,
CSRF on every form, viewers kept from acting, cookies, and the console without a login."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from offboard.server.app import create_app
from offboard.server.console_user import CSRF_FIELD, console_user, csrf_token
from offboard.server.login import SESSION_COOKIE, ConsoleLogin, LoginGuard
from offboard.server.login.flow import local_path
from offboard.server.metrics import Metrics, PrometheusTelemetry
from offboard.service.status import DaemonStatus
from offboard.settings.runtime import DaemonSettings
from offboard.store import SqlStore
from tests.server.conftest import LIMITS
from tests.server.login_helpers import (
    OPERATOR_USER,
    VIEWER_USER,
    console_login,
    console_settings,
    session_store,
)
from tests.service.fakes import FakeClock

HTML = {"accept": "text/html,application/xhtml+xml"}


@dataclass
class Gate:
    login: ConsoleLogin
    client: httpx.AsyncClient
    acted: list[str]

    def as_user(self, cookies: dict[str, str]) -> httpx.AsyncClient:
        self.client.cookies.clear()
        for name, value in cookies.items():
            self.client.cookies.set(name, value)
        return self.client


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = session_store(tmp_path)
    yield opened
    opened.close()


@pytest.fixture
async def gate(store: SqlStore) -> AsyncIterator[Gate]:
    """A tiny app behind the guard: one page and one act that records who acted."""
    acted: list[str] = []

    async def page(request: Request) -> Response:
        user = console_user(request)
        return PlainTextResponse(f"{user.username if user else '-'} {csrf_token(request)}")

    async def act(request: Request) -> Response:
        form = parse_qs((await request.body()).decode())
        user = console_user(request)
        assert user is not None
        acted.append(f"{user.actor}:{form['reason'][0]}")
        return PlainTextResponse("done")

    login = console_login(store)
    inner = Starlette(routes=[Route("/", page), Route("/act", act, methods=["POST"])])
    app = LoginGuard(inner, login.sessions)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Gate(login, client, acted)


async def _token(client: httpx.AsyncClient) -> str:
    return (await client.get("/")).text.split()[1]


async def test_a_browser_without_a_session_is_sent_to_the_login(gate: Gate) -> None:
    response = await gate.client.get("/history?person=olga", headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == "/auth/login?next=%2Fhistory%3Fperson%3Dolga"


async def test_anything_else_without_a_session_gets_401(gate: Gate) -> None:
    assert (await gate.client.get("/status.json")).status_code == 401
    refused = await gate.client.post("/act", data={"reason": "x"})
    assert refused.status_code == 401
    assert gate.acted == []


@pytest.mark.parametrize("cookie", ["", "garbage", "abc.def", "a.b.c"])
async def test_a_forged_cookie_is_no_session(gate: Gate, cookie: str) -> None:
    assert (await gate.as_user({SESSION_COOKIE: cookie}).get("/")).status_code == 401


async def test_a_session_puts_the_person_and_csrf_token_on_the_request(gate: Gate) -> None:
    client = gate.as_user(gate.login.open_session(OPERATOR_USER))
    name, token = (await client.get("/")).text.split()
    assert name == "olga"
    assert len(token) >= 43
    response = await client.get("/")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "DENY"


async def test_a_form_with_the_csrf_token_acts(gate: Gate) -> None:
    client = gate.as_user(gate.login.open_session(OPERATOR_USER))
    done = await client.post("/act", data={CSRF_FIELD: await _token(client), "reason": "ok"})
    assert done.status_code == 200
    assert gate.acted == ["console:olga (sub 0b7e-olga):ok"]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", b"reason=no-token"),
        ("application/x-www-form-urlencoded", b"csrf_token=wrong&reason=x"),
        ("application/x-www-form-urlencoded", b"csrf_token=&reason=x"),
        ("application/x-www-form-urlencoded", b"csrf_token=%ff%fe&reason=x"),
        ("multipart/form-data; boundary=zz", b"--zz\r\nbroken"),
        ("application/json", b'{"csrf_token": "x"}'),
        ("text/plain", b"\xff\xfe\x00"),
    ],
)
async def test_a_form_without_the_right_token_is_refused_and_nothing_done(
    gate: Gate, content_type: str, body: bytes
) -> None:
    client = gate.as_user(gate.login.open_session(OPERATOR_USER))
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        refused = await client.request(
            method, "/act", content=body, headers={"content-type": content_type}
        )
        assert refused.status_code == 403, method
    assert gate.acted == []


async def test_another_sessions_token_is_refused(gate: Gate) -> None:
    other = gate.as_user(gate.login.open_session(VIEWER_USER))
    foreign = await _token(other)
    client = gate.as_user(gate.login.open_session(OPERATOR_USER))
    refused = await client.post("/act", data={CSRF_FIELD: foreign, "reason": "x"})
    assert refused.status_code == 403
    assert gate.acted == []


async def test_a_viewer_may_look_but_not_act(gate: Gate) -> None:
    client = gate.as_user(gate.login.open_session(VIEWER_USER))
    assert (await client.get("/")).status_code == 200
    refused = await client.post(
        "/act", data={CSRF_FIELD: await _token(client), "reason": "x"}, headers=HTML
    )
    assert refused.status_code == 403
    assert "operator role" in refused.text
    assert gate.acted == []


async def test_an_oversized_form_is_refused_before_parsing(gate: Gate) -> None:
    client = gate.as_user(gate.login.open_session(OPERATOR_USER))
    token = await _token(client)
    body = {CSRF_FIELD: token, "reason": "x" * (2 << 20)}
    assert (await client.post("/act", data=body)).status_code == 413
    assert gate.acted == []


async def test_session_cookies_are_httponly_lax_and_secure_behind_https(store: SqlStore) -> None:
    plain = Response()
    console_login(store).sessions.set_cookie(plain, "v")
    cookie = plain.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie
    tls = Response()
    console_login(store, public_url="https://offboard.example.com").sessions.set_cookie(tls, "v")
    assert "secure" in tls.headers["set-cookie"].lower()


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("/history?x=1", "/history?x=1"),
        ("//evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        (None, "/"),
    ],
)
def test_after_login_only_a_local_path_is_followed(given: str | None, kept: str) -> None:
    assert local_path(given) == kept


def _ops_app(login: ConsoleLogin | None) -> httpx.AsyncClient:
    metrics = Metrics()
    status = DaemonStatus(FakeClock(), PrometheusTelemetry(metrics))
    app = create_app(status, metrics, readiness_limits=LIMITS, login=login)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.mark.parametrize("configured", [True, False])
async def test_the_probes_answer_without_a_login(store: SqlStore, configured: bool) -> None:
    async with _ops_app(console_login(store) if configured else None) as client:
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code in (200, 503)
        assert (await client.get("/leaderz")).status_code in (200, 503)
        assert (await client.get("/metrics")).status_code == 200


async def test_without_a_configured_login_only_the_probes_answer() -> None:
    async with _ops_app(None) as client:
        page = await client.get("/", headers=HTML)
        assert page.status_code == 403
        assert "[console]" in page.text
        assert "console-login.md" in page.text
        for path in ("/licences", "/licences.json", "/auth/login", "/auth/callback"):
            assert (await client.get(path)).status_code == 403, path


async def test_metrics_carry_no_personal_data(store: SqlStore) -> None:
    login = console_login(store)
    async with _ops_app(login) as client:
        for name, value in login.open_session(OPERATOR_USER).items():
            client.cookies.set(name, value)
        for path in ("/", "/licences", "/licences.json", "/nowhere", "/auth/logout"):
            await client.get(path, headers=HTML)
        metrics = (await client.get("/metrics")).text
    user = OPERATOR_USER
    for personal in (user.username, user.name, user.subject, str(user.email), "@"):
        assert personal not in metrics


def test_the_console_login_is_off_until_configured_and_the_bind_stays_loopback() -> None:
    assert DaemonSettings().listen_host == "127.0.0.1"
    assert not console_settings(issuer=None).enabled
    assert console_settings().enabled


async def test_a_websocket_is_closed_before_any_app_sees_it(store: SqlStore) -> None:
    reached: list[str] = []

    async def app(scope: object, receive: object, send: object) -> None:
        reached.append("app")

    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    async def receive() -> dict[str, object]:
        return {"type": "websocket.connect"}

    guard = LoginGuard(app, console_login(store).sessions)  # type: ignore[arg-type]
    await guard({"type": "websocket", "path": "/healthz", "headers": []}, receive, send)  # type: ignore[arg-type]
    assert sent == [{"type": "websocket.close", "code": 1008}]
    assert reached == []
