"""`target`: every contract test runs against the emulator in process, the emulator over a
socket, and the real Keycloak server (marked `keycloak`, skipped without Java outside CI)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from offboard_emulators.keycloak.emulator import EmulatorState
from tests.contract.targets import Target, emulator_target, in_process_emulator, real_target
from tests.contract.targets import socket_emulator as serve_socket_emulator


@pytest.fixture(scope="session")
def socket_emulator() -> Iterator[tuple[str, EmulatorState]]:
    """One emulator on a loopback port for the session (reset before each test)."""
    with serve_socket_emulator() as served:
        yield served


@pytest.fixture(
    params=[
        "emulator-asgi",
        "emulator-socket",
        pytest.param("real", marks=pytest.mark.keycloak),
    ]
)
async def target(request: pytest.FixtureRequest) -> AsyncIterator[Target]:
    """The server under test."""
    if request.param == "emulator-asgi":
        async with in_process_emulator() as emulated:
            yield emulated
    elif request.param == "emulator-socket":
        base_url, state = request.getfixturevalue("socket_emulator")
        state.reset()
        async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as http:
            yield emulator_target("emulator-socket", http, state)
    else:
        server = request.getfixturevalue("keycloak_server")
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60.0) as http:
            yield real_target(server, http)
