"""A leader paused mid-apply (SIGSTOP) must not act on its stale plan when it wakes up.

Two ``offboard run`` processes share one store; lease ttl 3 s. The Atlassian emulator holds
the leader's first disable requests at a gate, so the test knows the leader is mid-apply;
the leader is then stopped with SIGSTOP for 7 s. Meanwhile the standby takes over and some
people the stale plan still means to deactivate are re-enabled in Keycloak. After SIGCONT
the verdict is read from the emulators: no account got two disable requests, nobody enabled
was deactivated, and every person still gone was deactivated (by the new leader).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from offboard.cli.demo import (
    CLIENT_SECRET,
    DIRECTORY,
    DOMAIN,
    ORG,
    ORG_KEY,
    REALM,
    STAFF,
    build_emulators,
    person,
)
from offboard_emulators.atlassian import create_app as atlassian_app
from offboard_emulators.atlassian.app import EmulatorParts
from offboard_emulators.common.server import free_ports, serve_in_thread
from offboard_emulators.keycloak.app import create_app as keycloak_app
from tests.store.conftest import POSTGRES_URL, _empty_postgres

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.timeout(180)]

PEOPLE = 40
LEAVERS = range(24)  # disabled before the leader's first pass
RE_ENABLED = 8  # of the leavers the leader had not reached yet, re-enabled during the pause
PAUSE = 7.0
DISABLE = "/manage/lifecycle/disable"


@dataclass
class Gate:
    """ASGI wrapper: disable requests wait here until opened; the first one is signalled."""

    app: ASGIApp
    opened: threading.Event = field(default_factory=threading.Event)
    first_held: threading.Event = field(default_factory=threading.Event)
    held: set[str] = field(default_factory=set)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.endswith(DISABLE) and not self.opened.is_set():
            self.held.add(path.split("/users/")[1].split("/")[0])
            self.first_held.set()
            await asyncio.to_thread(self.opened.wait, 120)  # another thread opens it
        await self.app(scope, receive, send)


def _config(tmp: Path, urls: dict[str, str], store: str) -> Path:
    store_line = f'url = "{store}"' if "://" in store else f'path = "{store}"'
    text = f"""
[keycloak]
base_url = "{urls["keycloak"]}"
realm = "{REALM}"
client_id = "offboard"
client_secret = "{CLIENT_SECRET}"
scope_groups = ["{STAFF}"]

[atlassian]
base_url = "{urls["atlassian"]}"
org_id = "{ORG}"
directory_id = "{DIRECTORY}"
api_key = "{ORG_KEY}"
rate_limit_per_second = 200

[policy]
domains = ["{DOMAIN}"]

[policy.thresholds]
max_deactivations = 500
max_deactivation_percent = 100
max_source_drop_percent = 100

[store]
{store_line}

[daemon]
lease_ttl = "3s"
poll_interval = "1s"
reconcile_interval = "1h"
reconfirm_after = "5s"
"""
    path = tmp / "offboard.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _offboard(config: Path, *args: str, log: Path | None = None, **env: str) -> Any:
    command = [sys.executable, "-m", "offboard", "--config", str(config), *args]
    environment = {**os.environ, **env}
    if log is None:
        return subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    with log.open("w") as sink:
        return subprocess.Popen(command, env=environment, stdout=sink, stderr=sink)


def _wait(check: Any, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {within} s"
        time.sleep(0.05)


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        if not POSTGRES_URL:
            pytest.skip("set OFFBOARD_TEST_POSTGRES_URL to test on PostgreSQL")
        _empty_postgres(POSTGRES_URL)
        return POSTGRES_URL
    return str(tmp_path / "shared.sqlite3")


@pytest.fixture
def daemons() -> Iterator[list[Any]]:
    started: list[Any] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGCONT)
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def test_a_leader_paused_past_its_lease_sends_nothing_twice_and_spares_the_returned(
    tmp_path: Path, store_location: str, daemons: list[Any]
) -> None:
    _pause_the_leader_mid_apply(tmp_path, store_location, daemons, standby=True)


def test_a_lone_leader_paused_past_its_lease_takes_it_back_and_finishes_the_job(
    tmp_path: Path, daemons: list[Any]
) -> None:
    # No standby: the leader wakes, takes its own expired lease back under a new fence, and
    # the pass it had in flight is refused at its next write. A new full pass must follow
    # at once (it once waited for reconcile_interval, here an hour).
    store = str(tmp_path / "shared.sqlite3")
    _pause_the_leader_mid_apply(tmp_path, store, daemons, standby=False)


def _pause_the_leader_mid_apply(
    tmp_path: Path, store_location: str, daemons: list[Any], *, standby: bool
) -> None:
    keycloak, atlassian = build_emulators(PEOPLE)
    realm = keycloak.realm
    parts = EmulatorParts(atlassian)
    gate = Gate(atlassian_app(parts=parts))
    gate.opened.set()  # day one links everyone without holding anything
    with serve_in_thread(keycloak_app(keycloak)) as kc_url, serve_in_thread(gate) as at_url:
        config = _config(tmp_path, {"keycloak": kc_url, "atlassian": at_url}, store_location)
        linked = _offboard(config, "apply", "--yes")
        assert linked.returncode == 0, linked.stdout + linked.stderr

        account_of = {}
        for n in range(PEOPLE):
            account = atlassian.account_by_email(f"{person(n)}@{DOMAIN}")
            assert account is not None
            account_of[n] = account.account_id
        for n in LEAVERS:
            user = realm.user_by_username(person(n))
            assert user is not None
            user.enabled = False
        realm._listing = None
        gate.opened.clear()

        ports = free_ports(2)
        leader = _offboard(config, "run", log=tmp_path / "leader.log",
                           OFFBOARD_DAEMON__LISTEN_PORT=str(ports[0]))  # fmt: skip
        daemons.append(leader)
        assert gate.first_held.wait(60), "the leader never sent a disable request"
        if standby:
            other = _offboard(config, "run", log=tmp_path / "standby.log",
                              OFFBOARD_DAEMON__LISTEN_PORT=str(ports[1]))  # fmt: skip
            daemons.append(other)
            _wait(lambda: _healthy(ports[1]), 60, "the standby to serve")
        time.sleep(0.5)  # every request the leader has in flight is at the gate now

        leader.send_signal(signal.SIGSTOP)
        in_flight = {n for n, a in account_of.items() if a in gate.held}
        assert in_flight, "the leader was mid-apply when it was stopped"
        gate.opened.set()  # what was sent before the pause is carried out, once
        waiting = [n for n in LEAVERS if n not in in_flight]
        returned = set(waiting[:RE_ENABLED])
        for n in returned:
            user = realm.user_by_username(person(n))
            assert user is not None
            user.enabled = True
        realm._listing = None
        time.sleep(PAUSE)
        leader.send_signal(signal.SIGCONT)

        still_gone = [n for n in LEAVERS if n not in returned]

        def status(n: int) -> str:
            with atlassian.lock:
                return atlassian.account(account_of[n]).account_status

        def logs() -> str:
            return "\n".join(
                f"--- {name} (last lines)\n" + (tmp_path / name).read_text()[-6000:]
                for name in ("leader.log", "standby.log")
                if (tmp_path / name).exists()
            )

        try:
            _wait(lambda: all(status(n) == "inactive" for n in still_gone), 60,
                  "the leader after the pause to deactivate everyone still gone")  # fmt: skip
        except AssertionError as failed:
            left = [n for n in still_gone if status(n) != "inactive"]
            raise AssertionError(f"{failed}; still active: {left}\n{logs()}") from None
        time.sleep(4)  # room for the woken leader to do what it would

        disables = Counter(
            entry.path.split("/users/")[1].split("/")[0]
            for entry in parts.log.entries()
            if entry.method == "POST" and entry.path.endswith(DISABLE)
        )
        twice = [a for a, count in disables.items() if count > 1]
        wrongly = [n for n in returned if status(n) != "active"]
        touched_returned = [n for n in returned if disables[account_of[n]]]
        assert twice == [], f"accounts that got two disable requests: {twice}\n{logs()}"
        assert wrongly == [], f"deactivated while enabled: {wrongly}"
        assert touched_returned == []
        assert len(disables) == len(still_gone), "every one still gone got exactly one request"
        assert all(status(n) == "active" for n in range(PEOPLE) if n not in LEAVERS)
