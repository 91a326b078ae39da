"""An in-process Keycloak emulator seeded with the real server's test realm."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from offboard_emulators.keycloak.app import create_app
from offboard_emulators.keycloak.emulator import EmulatorState
from tests.contract.targets import EMULATOR_SECRET, emulator_realm_json

ADMIN = "/admin/realms/offboard-test"


@pytest.fixture
def state() -> EmulatorState:
    """A fresh emulator state."""
    return EmulatorState.from_seed_json(emulator_realm_json())


@pytest.fixture
async def http(state: EmulatorState) -> AsyncIterator[httpx.AsyncClient]:
    """A client talking to the emulator through the ASGI transport."""
    transport = httpx.ASGITransport(app=create_app(state))
    async with httpx.AsyncClient(transport=transport, base_url="http://keycloak.test") as client:
        yield client


@pytest.fixture
async def bearer(http: httpx.AsyncClient) -> dict[str, str]:
    """Authorization header of the read-only offboard service account."""
    response = await http.post(
        "/realms/offboard-test/protocol/openid-connect/token",
        data={"grant_type": "client_credentials"},
        auth=("offboard", EMULATOR_SECRET),
    )
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
