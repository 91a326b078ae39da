"""The daemon over real sockets against the Keycloak emulator: changes that emit no event.

Many paths disable a user without any admin event (LDAP/AD federation, imports, direct
database changes). Only the periodic full reconciliation catches them; here the emulator's
state is flipped directly, so the poller has nothing to see.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from offboard_emulators.common.server import serve_in_thread
from offboard_emulators.keycloak.app import create_app
from offboard_emulators.keycloak.emulator import EmulatorState
from offboard_emulators.keycloak.model import User
from tests.e2e.harness import (
    DOMAIN,
    Tenant,
    atlassian_emulator,
    daemon_settings,
    eventually,
    running_daemon,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REALM_FILE = Path(__file__).parents[1] / "keycloak" / "realm-offboard-test.json"
SECRET = "emulated-client-secret"


@dataclass
class EmulatedKeycloak:
    url: str
    state: EmulatorState

    def add_user(self, name: str) -> User:
        user = User(
            id=str(uuid.uuid4()),
            username=name,
            created=int(time.time() * 1000),
            email=f"{name}@{DOMAIN}",
            email_verified=True,
        )
        return self.state.realm.add_user(user)

    def admin_events_about(self, user_id: str) -> int:
        with self.state.realm.lock:
            return sum(1 for e in self.state.realm.admin_events if user_id in e.resource_path)


@pytest.fixture
def keycloak() -> Iterator[EmulatedKeycloak]:
    state = EmulatorState.from_seed_file(REALM_FILE, {"OFFBOARD_TEST_CLIENT_SECRET": SECRET})
    with serve_in_thread(create_app(state)) as url:
        yield EmulatedKeycloak(url, state)


@pytest.fixture
def tenant() -> Iterator[Tenant]:
    with atlassian_emulator() as emulated:
        yield emulated


async def test_a_disable_without_any_event_is_caught_by_the_next_reconciliation(
    keycloak: EmulatedKeycloak, tenant: Tenant, tmp_path: Path
) -> None:
    user = keycloak.add_user(f"silent-{uuid.uuid4().hex[:6]}")
    account_id = tenant.add_account(user.email or "")
    settings = daemon_settings(
        keycloak_url=keycloak.url,
        realm="offboard-test",
        client_id="offboard",
        client_secret=SECRET,
        tenant=tenant,
        store=tmp_path / "state.db",
        poll_interval=0.5,
        reconcile_interval=2.0,
    )
    async with running_daemon(settings) as daemon:
        await eventually(lambda: daemon.reconciled, within=30)
        with keycloak.state.realm.lock:
            user.enabled = False  # straight into the state: no admin event is recorded
        await eventually(lambda: tenant.status(account_id) == "inactive", within=20)
    passes = list(daemon.assembly.status.passes)  # after shutdown: the pass in flight is in
    caught_by = [
        p.kind for p in passes for a in p.actions if a.account_id == account_id and a.deprovisioning
    ]
    assert caught_by == ["full"]
    assert keycloak.admin_events_about(user.id) == 0
    assert tenant.lifecycle_calls(account_id) == 1
