"""The login against the real Keycloak, without a browser (fast): the form is filled over HTTP,
the console runs in-process. The browser tests (test_console_browser.py) repeat the main path
in Chromium; these cover the refusals a browser cannot easily provoke."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from offboard.server.app import create_app
from offboard.server.login import SESSION_COOKIE, ConsoleLogin, build_login
from offboard.server.login.flow import PENDING_COOKIE
from offboard.server.login.oidc import LoginError
from offboard.server.login.signing import PENDING_LOGIN, Signer
from offboard.server.metrics import Metrics, PrometheusTelemetry
from offboard.service.status import DaemonStatus
from offboard.settings.console import ConsoleSettings
from offboard.store import SqlStore, open_store
from tests.browser.console_realm import (
    OPERATOR_ROLE,
    VIEWER_ROLE,
    ConsoleRealm,
    Person,
    console_realm,
    keycloak_client,
    log_in_without_browser,
)
from tests.keycloak.fixture import KeycloakServer
from tests.server.conftest import LIMITS
from tests.service.fakes import FakeClock

pytestmark = [pytest.mark.keycloak]

PUBLIC_URL = "http://127.0.0.1:18080"  # never dialled: the callback is handed to the app
SECRET = "a-session-secret-of-forty-characters-xx"


@pytest.fixture(scope="module")
def realm(keycloak_server: KeycloakServer) -> ConsoleRealm:
    return console_realm(keycloak_server, PUBLIC_URL)


@dataclass
class Console:
    login: ConsoleLogin
    app: httpx.AsyncClient
    keycloak: httpx.AsyncClient
    metrics: Metrics

    async def start_login(self) -> str:
        """The console's redirect to Keycloak, with the pending-login cookie kept."""
        response = await self.app.get("/auth/login?next=/licences")
        assert response.status_code == 303
        return response.headers["location"]

    async def log_in(self, person: Person) -> httpx.Response:
        """Through Keycloak's login form and back to the console's callback."""
        back = await log_in_without_browser(self.keycloak, await self.start_login(), person)
        assert back.status_code == 302, back.text[:300]
        return await self.app.get(_local(back.headers["location"]))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = open_store(tmp_path / "s.sqlite3")
    yield opened
    opened.close()


def _login(realm: ConsoleRealm, store: SqlStore, secret: str = SECRET) -> ConsoleLogin:
    settings = ConsoleSettings.model_validate(realm.console_section(secret))
    login = build_login(settings, store.engine)
    assert login is not None
    return login


@pytest.fixture
async def console(realm: ConsoleRealm, store: SqlStore) -> AsyncIterator[Console]:
    login = _login(realm, store)
    metrics = Metrics()
    status = DaemonStatus(FakeClock(), PrometheusTelemetry(metrics))
    app = create_app(status, metrics, readiness_limits=LIMITS, login=login)
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client,
        keycloak_client() as keycloak,
    ):
        yield Console(login, client, keycloak, metrics)


def _local(url: str) -> str:
    assert url.startswith(PUBLIC_URL), url
    return url[len(PUBLIC_URL) :]


async def test_the_redirect_asks_for_a_code_with_pkce_s256_state_and_nonce(
    console: Console, realm: ConsoleRealm
) -> None:
    query = parse_qs(urlsplit(await console.start_login()).query)
    assert query["response_type"] == ["code"]
    assert query["client_id"] == [realm.client_id]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43  # base64url of a SHA-256
    assert query["redirect_uri"] == [f"{PUBLIC_URL}/auth/callback"]
    assert query["state"][0]
    assert query["nonce"][0]
    assert "openid" in query["scope"][0].split()


async def test_an_operator_logs_in_and_lands_where_they_were_going(
    console: Console, realm: ConsoleRealm
) -> None:
    landed = await console.log_in(realm.operator)
    assert landed.status_code == 303
    assert landed.headers["location"] == "/licences"
    cookie = landed.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # the public URL is plain http on loopback
    assert (await console.app.get("/licences")).status_code == 200
    metrics = (await console.app.get("/metrics")).text
    for personal in (realm.operator.username, realm.operator.email, realm.operator.user_id):
        assert personal not in metrics


async def test_someone_with_neither_role_gets_a_clear_403_and_no_session(
    console: Console, realm: ConsoleRealm
) -> None:
    refused = await console.log_in(realm.nobody)
    assert refused.status_code == 403
    assert "offboard-viewer" in refused.text
    assert "offboard-operator" in refused.text
    assert SESSION_COOKIE not in refused.headers.get("set-cookie", "")
    assert (await console.app.get("/", headers={"accept": "text/html"})).status_code == 303


async def test_a_forged_state_is_refused(console: Console, realm: ConsoleRealm) -> None:
    back = await log_in_without_browser(
        console.keycloak, await console.start_login(), realm.operator
    )
    callback = _local(back.headers["location"]).replace("state=", "state=forged")
    refused = await console.app.get(callback)
    assert refused.status_code == 400
    assert SESSION_COOKIE not in refused.headers.get("set-cookie", "")


async def test_an_id_token_for_another_nonce_is_refused(
    console: Console, realm: ConsoleRealm
) -> None:
    back = await log_in_without_browser(
        console.keycloak, await console.start_login(), realm.operator
    )
    signer = Signer(SECRET)
    pending = signer.unseal(PENDING_LOGIN, console.app.cookies[PENDING_COOKIE])
    assert pending is not None
    pending["nonce"] = "another-nonce"
    console.app.cookies.set(PENDING_COOKIE, signer.seal(PENDING_LOGIN, pending, 60), path="/auth/")
    refused = await console.app.get(_local(back.headers["location"]))
    assert refused.status_code == 400
    assert "a token failed its checks" in refused.text


async def test_keycloak_refuses_the_code_without_the_right_pkce_verifier(
    console: Console, realm: ConsoleRealm
) -> None:
    back = await log_in_without_browser(
        console.keycloak, await console.start_login(), realm.operator
    )
    signer = Signer(SECRET)
    pending = signer.unseal(PENDING_LOGIN, console.app.cookies[PENDING_COOKIE])
    assert pending is not None
    pending["verifier"] = "x" * 64
    console.app.cookies.set(PENDING_COOKIE, signer.seal(PENDING_LOGIN, pending, 60), path="/auth/")
    refused = await console.app.get(_local(back.headers["location"]))
    assert refused.status_code == 400
    assert "invalid_grant" in refused.text


async def test_logout_ends_the_session_here_and_at_keycloak(
    console: Console, realm: ConsoleRealm
) -> None:
    await console.log_in(realm.operator)
    old = console.app.cookies[SESSION_COOKIE]
    page = await console.app.get("/auth/logout")
    token = page.text.split("name='csrf_token' value='")[1].split("'")[0]
    out = await console.app.post("/auth/logout", data={"csrf_token": token})
    assert out.status_code == 303
    end_session = urlsplit(out.headers["location"])
    assert end_session.path.endswith("/protocol/openid-connect/logout")
    assert parse_qs(end_session.query)["id_token_hint"][0].count(".") == 2
    back = await console.keycloak.get(out.headers["location"])
    assert back.headers["location"] == f"{PUBLIC_URL}/auth/logged-out"
    console.app.cookies.set(SESSION_COOKIE, old)  # the old cookie, replayed
    assert (await console.app.get("/licences.json")).status_code == 401
    again = await console.keycloak.get(await console.start_login())
    assert 'id="kc-form-login"' in again.text  # Keycloak asks for the password again


async def test_a_changed_session_secret_ends_every_session(
    console: Console, realm: ConsoleRealm, store: SqlStore
) -> None:
    await console.log_in(realm.operator)
    assert (await console.app.get("/licences.json")).status_code == 200
    metrics = Metrics()
    renewed = create_app(
        DaemonStatus(FakeClock(), PrometheusTelemetry(metrics)),
        metrics,
        readiness_limits=LIMITS,
        login=_login(realm, store, secret="another-session-secret-of-forty-chars-yy"),
    )
    cookies = {SESSION_COOKIE: console.app.cookies[SESSION_COOKIE]}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=renewed), base_url=PUBLIC_URL, cookies=cookies
    ) as restarted:
        assert (await restarted.get("/licences.json")).status_code == 401


async def _post_act(console: Console) -> httpx.Response:
    """A console form posted as an operator's page would (the guard answers before any act)."""
    page = await console.app.get("/auth/logout")
    token = page.text.split("name='csrf_token' value='")[1].split("'")[0]
    return await console.app.post("/retry", data={"csrf_token": token, "key": "k"})


async def test_an_operator_disabled_in_keycloak_can_no_longer_act_on_an_open_session(
    console: Console, realm: ConsoleRealm
) -> None:
    """An operator who leaves is disabled in Keycloak: their open console session, with
    roles read at login, must not outlive that (asked again before every act)."""
    leaver = realm.new_person("lea", OPERATOR_ROLE)
    await console.log_in(leaver)
    assert (await _post_act(console)).status_code not in (401, 403, 503)  # still vouched for
    realm.server.admin.set_enabled(leaver.user_id, False)
    refused = await _post_act(console)
    assert refused.status_code == 401, refused.text
    assert "no longer vouches for your login" in refused.text
    assert (await console.app.get("/licences.json")).status_code == 401  # the session ended


async def test_an_operator_whose_role_was_taken_away_can_no_longer_act(
    console: Console, realm: ConsoleRealm
) -> None:
    demoted = realm.new_person("dora", OPERATOR_ROLE)
    realm.server.admin.request("POST", realm.role_mapping(demoted), json=[realm.role(VIEWER_ROLE)])
    await console.log_in(demoted)
    operator = realm.role(OPERATOR_ROLE)
    realm.server.admin.request("DELETE", realm.role_mapping(demoted), json=[operator])
    refused = await _post_act(console)
    assert refused.status_code == 403, refused.text
    assert f"no longer grants you the '{OPERATOR_ROLE}' role" in refused.text
    assert (await console.app.get("/licences.json")).status_code == 200  # may still look
    assert (await _post_act(console)).status_code == 403  # and the session now says viewer


async def test_keycloak_unreachable_refuses_the_act_never_assumes(
    console: Console, realm: ConsoleRealm, monkeypatch: pytest.MonkeyPatch
) -> None:
    await console.log_in(realm.operator)
    oidc = console.login.flow.oidc

    async def unreachable(*_: object) -> dict[str, object]:
        raise LoginError("the token endpoint did not answer (ConnectError)")

    monkeypatch.setattr(oidc, "_token_response", unreachable)
    refused = await _post_act(console)
    assert refused.status_code == 503, refused.text
    assert "nothing was done" in refused.text
    assert (await console.app.get("/licences.json")).status_code == 200  # the session stays
