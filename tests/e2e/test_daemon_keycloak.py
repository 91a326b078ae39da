"""The daemon over real sockets: real Keycloak + Atlassian emulator + ``offboard run`` wiring.

Each test works in its own Keycloak group (the daemon's scope), so users other tests create in
the shared realm never reach its plans.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from offboard.intake.webhooks import sign
from tests.e2e.harness import (
    DOMAIN,
    WEBHOOK_SECRET,
    RunningDaemon,
    Tenant,
    atlassian_emulator,
    daemon_settings,
    eventually,
    fetch,
    running_daemon,
)
from tests.keycloak.fixture import KeycloakServer

pytestmark = [pytest.mark.e2e, pytest.mark.keycloak, pytest.mark.slow]


@dataclass
class People:
    """Users of one test: Keycloak ids and the matching Atlassian account ids."""

    keycloak: KeycloakServer
    tenant: Tenant
    group: str

    def add(self, name: str) -> tuple[str, str]:
        email = f"{name}@{DOMAIN}"
        user_id = self.keycloak.admin.create_user(name, email=email)
        self.keycloak.admin.add_to_group(user_id, self.group)
        return user_id, self.tenant.add_account(email)


@pytest.fixture
def tenant() -> Iterator[Tenant]:
    with atlassian_emulator() as emulated:
        yield emulated


@pytest.fixture
def people(keycloak_server: KeycloakServer, tenant: Tenant) -> People:
    group = f"e2e-{uuid.uuid4().hex[:8]}"
    keycloak_server.admin.request("POST", "groups", json={"name": group})
    return People(keycloak_server, tenant, group)


def settings_for(people: People, store: Path, **options: object):  # type: ignore[no-untyped-def]
    server = people.keycloak
    return daemon_settings(
        keycloak_url=server.base_url,
        realm=server.realm,
        client_id=server.client_id,
        client_secret=server.client_secret,
        tenant=people.tenant,
        store=store,
        group=people.group,
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
async def daemon(people: People, tmp_path: Path) -> AsyncIterator[RunningDaemon]:
    async with running_daemon(settings_for(people, tmp_path / "state.db", reactivate=True)) as d:
        yield d


async def linked(daemon: RunningDaemon) -> None:
    """Wait for the start-up reconciliation, which links identities to accounts."""
    await eventually(lambda: daemon.reconciled, within=60)


async def test_a_disable_deactivates_the_account_within_seconds(
    people: People, tmp_path: Path
) -> None:
    user_id, account_id = people.add(f"leaver-{uuid.uuid4().hex[:6]}")
    _, stayer_account = people.add(f"stayer-{uuid.uuid4().hex[:6]}")
    async with running_daemon(settings_for(people, tmp_path / "s.db")) as daemon:
        await linked(daemon)
        started = time.monotonic()
        await asyncio.to_thread(people.keycloak.admin.disable_user, user_id)
        await eventually(lambda: people.tenant.status(account_id) == "inactive", within=20)
        took = time.monotonic() - started
        await eventually(lambda: daemon.assembly.status.latency().count >= 1, within=5)
        metrics = (await fetch("GET", f"{daemon.url}/metrics")).text
    assert took < 20
    assert people.tenant.status(stayer_account) == "active"
    assert people.tenant.lifecycle_calls(account_id) == 1
    assert "offboard_deprovisioning_latency_seconds_count 1.0" in metrics
    assert 'offboard_actions_total{kind="deactivate",outcome="verified"} 1.0' in metrics


async def test_a_delete_deactivates_the_account(people: People, daemon: RunningDaemon) -> None:
    user_id, account_id = people.add(f"deleted-{uuid.uuid4().hex[:6]}")
    await linked(daemon)
    await daemon.assembly.daemon.reconcile_once()  # link the user added after start-up
    await asyncio.to_thread(people.keycloak.admin.delete_user, user_id)
    await eventually(lambda: people.tenant.status(account_id) == "inactive", within=20)


async def test_enabling_again_reactivates_when_the_policy_says_so(
    people: People, tmp_path: Path
) -> None:
    user_id, account_id = people.add(f"returner-{uuid.uuid4().hex[:6]}")
    async with running_daemon(settings_for(people, tmp_path / "s.db", reactivate=True)) as daemon:
        await linked(daemon)
        await asyncio.to_thread(people.keycloak.admin.disable_user, user_id)
        await eventually(lambda: people.tenant.status(account_id) == "inactive", within=20)
        await asyncio.to_thread(people.keycloak.admin.enable_user, user_id)
        await eventually(lambda: people.tenant.status(account_id) == "active", within=20)
    assert people.tenant.lifecycle_calls(account_id, "enable") == 1


async def test_a_signed_webhook_triggers_the_recheck(people: People, tmp_path: Path) -> None:
    user_id, account_id = people.add(f"hooked-{uuid.uuid4().hex[:6]}")
    # The poller is slowed down to a minute, so only the webhook can be this fast.
    settings = settings_for(people, tmp_path / "s.db", poll_interval=60.0)
    async with running_daemon(settings) as daemon:
        await linked(daemon)
        await eventually(lambda: daemon.assembly.status.last_poll is not None, within=10)
        await asyncio.to_thread(people.keycloak.admin.disable_user, user_id)
        body = json.dumps(
            {
                "uid": str(uuid.uuid4()),
                "type": "admin.USER-UPDATE",
                "time": int(time.time() * 1000),
                "realmId": people.keycloak.realm,
                "resourcePath": f"users/{user_id}",
                "authDetails": {"realmId": "master", "userId": "admin"},
            }
        ).encode()
        forged = await fetch("POST", daemon.webhook_url, content=body)
        assert forged.status_code == 401
        headers = {"X-Keycloak-Signature": sign(body, WEBHOOK_SECRET.encode())}
        accepted = await fetch("POST", daemon.webhook_url, content=body, headers=headers)
        assert accepted.status_code == 202
        await eventually(lambda: people.tenant.status(account_id) == "inactive", within=20)


async def test_two_daemons_on_one_store_deactivate_each_leaver_exactly_once(
    people: People, tmp_path: Path
) -> None:
    pairs = [people.add(f"pair-{n}-{uuid.uuid4().hex[:6]}") for n in range(4)]
    store = tmp_path / "shared.db"
    first, second = settings_for(people, store), settings_for(people, store)
    async with (
        running_daemon(first, holder="replica-1") as one,
        running_daemon(second, holder="replica-2") as two,
    ):
        await eventually(lambda: one.reconciled or two.reconciled, within=60)
        leaders = [d.assembly.status.leader for d in (one, two)]
        assert sorted(leaders) == [False, True]
        for user_id, _ in pairs:
            await asyncio.to_thread(people.keycloak.admin.disable_user, user_id)
        for _, account_id in pairs:
            await eventually(lambda a=account_id: people.tenant.status(a) == "inactive", within=30)
        ready = [(await fetch("GET", f"{d.url}/readyz")).status_code for d in (one, two)]
        assert ready == [200, 200]  # a healthy standby is ready too
        leader = [(await fetch("GET", f"{d.url}/leaderz")).status_code for d in (one, two)]
        assert sorted(leader) == [200, 503]  # leadership is shown apart
    for _, account_id in pairs:
        assert people.tenant.lifecycle_calls(account_id) == 1
