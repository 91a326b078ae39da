"""The servers the contract suite checks: the Keycloak emulator (in process or over a socket)
and the real Keycloak server, behind one small interface built on plain httpx."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from offboard_emulators.common.server import serve_in_thread
from offboard_emulators.keycloak.app import create_app
from offboard_emulators.keycloak.emulator import EmulatorState
from offboard_emulators.keycloak.seed import resolve_placeholders
from tests.keycloak.fixture import KeycloakServer
from tests.keycloak.server import REALM_FILE

EMULATOR_SECRET = "emulator-test-only-" + secrets.token_hex(8)
EMULATOR_ADMIN = ("contract-admin", "contract-admin-" + secrets.token_hex(8))
ADMIN_ROLES = ["manage-users", "view-users", "view-events", "view-realm"]


@dataclass
class Target:
    """One server under test: where its realm is, its clients, and an admin to set things up."""

    name: str
    http: httpx.AsyncClient
    realm: str
    client_secret: str
    admin_token_path: str  # token endpoint path of the admin's realm
    admin_credentials: tuple[str, str]
    emulator: EmulatorState | None = None
    _admin_token: str = field(default="", repr=False)

    @property
    def admin_path(self) -> str:
        """`/admin/realms/{realm}`."""
        return f"/admin/realms/{self.realm}"

    @property
    def token_path(self) -> str:
        """The realm's token endpoint path."""
        return f"/realms/{self.realm}/protocol/openid-connect/token"

    async def token(self, client_id: str = "offboard") -> str:
        """A client_credentials token of one of the realm's service-account clients."""
        response = await self.http.post(
            self.token_path,
            data={"grant_type": "client_credentials"},
            auth=(client_id, self.client_secret),
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    async def get(self, path: str, token: str, **params: Any) -> httpx.Response:
        """GET under the realm's admin API with a bearer token."""
        headers = {"Authorization": f"Bearer {token}"}
        return await self.http.get(f"{self.admin_path}/{path}", params=params, headers=headers)

    # -- setting things up as an administrator ----------------------------------------------

    async def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """An admin call (fresh token each time: master tokens live only 60 s)."""
        username, password = self.admin_credentials
        grant = {"grant_type": "password", "client_id": "admin-cli"}
        got = await self.http.post(
            self.admin_token_path, data={**grant, "username": username, "password": password}
        )
        got.raise_for_status()
        headers = {"Authorization": f"Bearer {got.json()['access_token']}"}
        response = await self.http.request(
            method, f"{self.admin_path}/{path}", headers=headers, **kwargs
        )
        response.raise_for_status()
        return response

    async def create_user(self, username: str, password: str | None = None) -> str:
        """Create a user through the Admin API; returns its id."""
        body: dict[str, Any] = {
            "username": username,
            "enabled": True,
            "email": f"{username}@example.test",
            "emailVerified": True,
            "firstName": "Contract",
            "lastName": "Test",
        }
        if password:
            body["credentials"] = [{"type": "password", "value": password, "temporary": False}]
        response = await self.admin("POST", "users", json=body)
        return response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]

    async def create_users(self, prefix: str, count: int) -> list[str]:
        """Create `{prefix}-{n:03d}` users, a few at a time."""
        gate = asyncio.Semaphore(6)

        async def one(n: int) -> str:
            async with gate:
                return await self.create_user(f"{prefix}-{n:03d}")

        return list(await asyncio.gather(*(one(n) for n in range(count))))

    async def set_enabled(self, user_id: str, enabled: bool) -> None:
        """Read the user, flip `enabled`, PUT it back (as the admin console does)."""
        user = (await self.admin("GET", f"users/{user_id}")).json()
        await self.admin("PUT", f"users/{user_id}", json={**user, "enabled": enabled})

    async def lock_out(self, username: str, attempts: int = 3) -> None:
        """Fail password logins through the test's public direct-grant client."""
        for _ in range(attempts):
            await self.http.post(
                self.token_path,
                data={
                    "grant_type": "password",
                    "client_id": "offboard-login",
                    "username": username,
                    "password": "wrong-on-purpose",
                },
            )


def emulator_realm_json() -> dict[str, Any]:
    """The real server's test realm, plus a realm admin for the emulator's set-up calls."""
    text = resolve_placeholders(
        REALM_FILE.read_text(), {"OFFBOARD_TEST_CLIENT_SECRET": EMULATOR_SECRET}
    )
    data: dict[str, Any] = json.loads(text)
    username, password = EMULATOR_ADMIN
    data["users"].append(
        {
            "username": username,
            "enabled": True,
            "credentials": [{"type": "password", "value": password}],
            "clientRoles": {"realm-management": ADMIN_ROLES},
        }
    )
    return data


def emulator_state() -> EmulatorState:
    """A fresh emulator seeded like the real server."""
    return EmulatorState.from_seed_json(emulator_realm_json())


def emulator_target(name: str, http: httpx.AsyncClient, state: EmulatorState) -> Target:
    """The emulator as a contract target."""
    realm = state.realm.settings.name
    token_path = f"/realms/{realm}/protocol/openid-connect/token"
    return Target(name, http, realm, EMULATOR_SECRET, token_path, EMULATOR_ADMIN, state)


@asynccontextmanager
async def in_process_emulator() -> AsyncIterator[Target]:
    """The emulator through httpx's ASGI transport (no socket)."""
    state = emulator_state()
    transport = httpx.ASGITransport(app=create_app(state))
    async with httpx.AsyncClient(transport=transport, base_url="http://keycloak.test") as http:
        yield emulator_target("emulator-asgi", http, state)


@contextmanager
def socket_emulator() -> Iterator[tuple[str, EmulatorState]]:
    """The emulator served by uvicorn on a loopback port."""
    state = emulator_state()
    with serve_in_thread(create_app(state)) as base_url:
        yield base_url, state


def real_target(server: KeycloakServer, http: httpx.AsyncClient) -> Target:
    """The real server as a contract target (admin = the master realm's bootstrap admin)."""
    credentials = server.admin.credentials
    token_path = "/realms/master/protocol/openid-connect/token"
    return Target("real", http, server.realm, server.client_secret, token_path, credentials)
