"""The real Keycloak server behind the session-scoped `keycloak_server` pytest fixture.

Use it from any test marked `@pytest.mark.keycloak`:

    @pytest.mark.keycloak
    def test_something(keycloak_server: KeycloakServer) -> None:
        # client_credentials at keycloak_server.token_url with .client_id / .client_secret;
        # the Admin REST API of the realm is under keycloak_server.admin_url
        user_id = keycloak_server.admin.create_user("erin-1234")   # see tests/keycloak/admin.py

Where the server comes from, first match wins:
1. `OFFBOARD_TEST_KEYCLOAK_URL` (+ `_REALM`, `_CLIENT_ID`, `_CLIENT_SECRET`, `_ADMIN_USERNAME`,
   `_ADMIN_PASSWORD`, all prefixed `OFFBOARD_TEST_KEYCLOAK`): an existing server, never stopped.
2. A server started by hand with `scripts/keycloak start` (its state file): reused, not stopped.
3. Otherwise a fresh one is started lazily (first keycloak test) and stopped at session end
   (2–5 minutes on two busy cores; start one by hand to skip that).
Without Java or the distribution the tests skip with the reason; with `CI=true` they fail.
The realm `offboard-test` (tests/keycloak/realm-offboard-test.json) has users alice, bob
(disabled), carol, dave, groups staff and contractors, brute force with failureFactor 3
(temporary lockout), admin events with representations, and user events for lockouts.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.keycloak import server
from tests.keycloak.admin import KeycloakAdmin

ENV_PREFIX = "OFFBOARD_TEST_KEYCLOAK_"


@dataclass(frozen=True)
class KeycloakServer:
    """A running real server: where it is, the service-account client, and an admin helper."""

    base_url: str
    realm: str
    client_id: str
    client_secret: str
    admin: KeycloakAdmin

    def __repr__(self) -> str:  # the client secret stays out of pytest output
        return f"KeycloakServer(base_url={self.base_url!r}, realm={self.realm!r})"

    @property
    def token_url(self) -> str:
        """The realm's OpenID Connect token endpoint."""
        return f"{self.base_url}/realms/{self.realm}/protocol/openid-connect/token"

    @property
    def admin_url(self) -> str:
        """`{base_url}/admin/realms/{realm}`: the root of the realm's Admin REST API."""
        return f"{self.base_url}/admin/realms/{self.realm}"


def _from_environment() -> KeycloakServer | None:
    url = os.environ.get(ENV_PREFIX + "URL")
    if not url:
        return None
    env = {key: os.environ.get(ENV_PREFIX + key, "") for key in _ENV_KEYS}
    missing = [ENV_PREFIX + k for k in ("CLIENT_SECRET", "ADMIN_PASSWORD") if not env[k]]
    if missing:
        pytest.fail(f"{ENV_PREFIX}URL is set but {', '.join(missing)} is not")
    realm = env["REALM"] or server.REALM
    admin = KeycloakAdmin(url, realm, env["ADMIN_USERNAME"] or "admin", env["ADMIN_PASSWORD"])
    client_id = env["CLIENT_ID"] or server.CLIENT_ID
    return KeycloakServer(url.rstrip("/"), realm, client_id, env["CLIENT_SECRET"], admin)


_ENV_KEYS = ("REALM", "CLIENT_ID", "CLIENT_SECRET", "ADMIN_USERNAME", "ADMIN_PASSWORD")


def _from_info(info: server.ServerInfo) -> KeycloakServer:
    admin = KeycloakAdmin(
        info.base_url, info.realm, info.admin_username, info.admin_password, info.login_client_id
    )
    return KeycloakServer(info.base_url, info.realm, info.client_id, info.client_secret, admin)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI needs the real Keycloak server: {reason}", pytrace=False)
    pytest.skip(f"no real Keycloak server: {reason} (run scripts/keycloak fetch; needs Java 17+)")


def extend_timeouts(items: list[pytest.Item]) -> None:
    """Give keycloak-marked tests time for a server start (setup counts towards the timeout)."""
    for item in items:
        if item.get_closest_marker("keycloak") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(server.START_TIMEOUT_S + 120))


def serve_keycloak() -> Iterator[KeycloakServer]:
    """Yield a running server (see the module docstring); stop it after if we started it."""
    existing = _from_environment()
    if existing is None:
        hand_started = server.load_state()
        existing = _from_info(hand_started) if hand_started else None
    if existing is not None:
        try:
            yield existing
        finally:
            existing.admin.close()
        return
    try:
        info = server.start_server(watch_pid=os.getpid())
    except (server.KeycloakUnavailableError, OSError) as error:
        _unavailable(str(error))
        raise  # unreachable: _unavailable always raises
    started = _from_info(info)
    try:
        yield started
    finally:
        started.admin.close()
        server.stop_server(info)
