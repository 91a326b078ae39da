"""`python -m offboard_emulators.keycloak --port N --seed FILE` serves the seeded realm."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from offboard_emulators.common.server import free_port
from tests.keycloak.server import REALM_FILE


@pytest.mark.slow
def test_server_mode_serves_the_seed_file() -> None:
    port = free_port()
    env = {**os.environ, "OFFBOARD_TEST_CLIENT_SECRET": "server-mode-secret"}
    command = [sys.executable, "-m", "offboard_emulators.keycloak", "--port", str(port)]
    process = subprocess.Popen([*command, "--seed", str(REALM_FILE)], env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        token_url = f"{base}/realms/offboard-test/protocol/openid-connect/token"
        response = None
        for _ in range(100):
            try:
                response = httpx.post(
                    token_url,
                    data={"grant_type": "client_credentials"},
                    auth=("offboard", "server-mode-secret"),
                )
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert response is not None
        assert response.status_code == 200
        headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
        count = httpx.get(f"{base}/admin/realms/offboard-test/users/count", headers=headers)
        assert count.json() == 4
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_main_parses_its_arguments() -> None:
    from offboard_emulators.keycloak.__main__ import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
