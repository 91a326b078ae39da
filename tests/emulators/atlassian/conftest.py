"""Fixtures: the documented example tenant, an app over it and an in-process client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from offboard_emulators.atlassian import AtlassianState, create_app, load_fixture, seed

EXAMPLE = Path(__file__).parents[3] / "src/offboard_emulators/atlassian/example_fixture.json"
ORG = "9a1ja8a1-1a4b-1c23-d4e5-f6a7b8c9d0e1"
ADMIN = "5b10a2844c20165700ede21g"
LEAVER = "5b10ac8d82e05b22cc7d4ef5"
UNMANAGED = "5b10ac8d82e05b22cc7d4ef6"
GOOGLE = "5b10ac8d82e05b22cc7d4ef7"
OWNER = "5b10ac8d82e05b22cc7d4ef8"
SYNCED = "5b10ac8d82e05b22cc7d4ef9"
ORG_KEY = {"Authorization": "Bearer emulator-org-key", "Content-Type": "application/json"}
"""Real clients send JSON on every write (a POST without it gets 415: test_realism.py)."""
SCOPED_KEY = {"Authorization": "Bearer emulator-scoped-key"}
EXPIRED_KEY = {"Authorization": "Bearer emulator-expired-key"}
SCIM_KEY = {"Authorization": "Bearer emulator-scim-key"}
SCIM_BASE = "/scim/directory/scim-dir-1"


@pytest.fixture
def tenant() -> AtlassianState:
    """The example fixture of docs/emulators/atlassian.md, loaded fresh."""
    state = AtlassianState()
    seed(state, load_fixture(EXAMPLE))
    # These tests read their own writes at once and still use the v1 user calls; the
    # read lag and the v1 retirement (both on by default) have their own tests in
    # test_realism.py.
    state.realism.read_lag_seconds = 0
    state.realism.v1_users_retired = False
    return state


@pytest.fixture
def app(tenant: AtlassianState) -> Starlette:
    """The emulator app over the example tenant."""
    return create_app(tenant)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client (httpx ASGI transport)."""
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="https://api.atlassian.test") as c:
        yield c
