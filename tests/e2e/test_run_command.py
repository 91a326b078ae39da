"""``offboard run`` as a process: it serves, becomes ready, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from offboard.store import open_store
from offboard_emulators.common.server import free_port, serve_in_thread
from offboard_emulators.keycloak.app import create_app
from offboard_emulators.keycloak.emulator import EmulatorState
from tests.e2e.harness import DIRECTORY, DOMAIN, ORG_ID, ORG_KEY, Tenant, atlassian_emulator

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REALM_FILE = Path(__file__).parents[1] / "keycloak" / "realm-offboard-test.json"
SECRET = "run-command-client-secret"


@pytest.fixture
def keycloak_url() -> Iterator[str]:
    state = EmulatorState.from_seed_file(REALM_FILE, {"OFFBOARD_TEST_CLIENT_SECRET": SECRET})
    with serve_in_thread(create_app(state)) as url:
        yield url


@pytest.fixture
def tenant() -> Iterator[Tenant]:
    with atlassian_emulator() as emulated:
        yield emulated


def write_config(path: Path, keycloak_url: str, tenant: Tenant, port: int) -> None:
    path.write_text(
        f"""
[keycloak]
base_url = "{keycloak_url}"
realm = "offboard-test"
client_id = "offboard"

[atlassian]
base_url = "{tenant.url}"
org_id = "{ORG_ID}"
directory_id = "{DIRECTORY}"

[policy]
domains = ["{DOMAIN}"]

[store]
path = "{path.parent / "state.db"}"

[daemon]
poll_interval = "1s"
listen_host = "127.0.0.1"
listen_port = {port}
lease_ttl = "30s"
""",
        encoding="utf-8",
    )


def wait_ready(url: str, process: subprocess.Popen[bytes], within: float = 60) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        assert process.poll() is None, "offboard run exited early"
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("offboard run never became ready")


def test_offboard_run_serves_and_stops_cleanly_on_sigterm(
    keycloak_url: str, tenant: Tenant, tmp_path: Path
) -> None:
    port = free_port()
    config = tmp_path / "offboard.toml"
    write_config(config, keycloak_url, tenant, port)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("OFFBOARD_")},
        "OFFBOARD_KEYCLOAK__CLIENT_SECRET": SECRET,
        "OFFBOARD_ATLASSIAN__API_KEY": ORG_KEY,
    }
    command = [sys.executable, "-m", "offboard", "--config", str(config), "run"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
        assert httpx.get(f"{url}/healthz").json() == {"status": "alive"}
        metrics = httpx.get(f"{url}/metrics").text
        assert "offboard_leader 1.0" in metrics
        assert 'vendor="keycloak"' in metrics
        assert 'vendor="atlassian"' in metrics
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr.decode()[-2000:]
    text = [line for line in stderr.decode().splitlines() if line.strip()]
    plain = [line for line in text if not line.startswith("{")]
    assert all(line.startswith("created a new store at ") for line in plain), plain
    said = {line["event"]: line for line in map(json.loads, set(text) - set(plain))}
    assert said["stop requested"]["signal"] == "SIGTERM"
    assert said["daemon stopped"]["lease"] == "released"
    assert SECRET not in stderr.decode()
    started = next(line for line in stderr.decode().splitlines() if "daemon started" in line)
    assert "keycloak.route" in started  # how each side is reached, as config check says
    assert "loopback is never proxied" in started
    assert ORG_KEY not in stderr.decode()
    store = open_store(tmp_path / "state.db")
    try:
        # The lease was released: another replica takes it at once, long before its ttl ran out.
        assert store.acquire_lease("daemon", "successor", timedelta(seconds=30), datetime.now(UTC))
        assert store.cursor("keycloak.admin-events") is not None
        assert all(run.status != "running" for run in store.runs())  # nothing left mid-run
    finally:
        store.close()
