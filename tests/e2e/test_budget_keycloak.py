"""The budget end to end: the real Keycloak, the Atlassian emulator, `offboard run` wiring.

A wave of 30 disables (real admin events) against a budget of 10 per hour deactivates exactly
10 and holds 20 with their names; the release finishes them. Two replicas on one PostgreSQL
store spend one budget between them.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import MetaData, create_engine, text

from offboard.settings import Settings
from offboard.settings.runtime import StoreSettings
from offboard.store import open_store
from tests.e2e.harness import Tenant, atlassian_emulator, eventually, running_daemon
from tests.e2e.test_daemon_keycloak import People, settings_for
from tests.e2e.waves import read_hold, release
from tests.keycloak.fixture import KeycloakServer

pytestmark = [pytest.mark.e2e, pytest.mark.keycloak, pytest.mark.slow]

POSTGRES_URL = os.environ.get("OFFBOARD_TEST_POSTGRES_URL", "")
BUDGET = {"budget": {"hour_max_actions": 10}}


@pytest.fixture
def people(keycloak_server: KeycloakServer) -> Iterator[People]:
    group = f"wave-{uuid.uuid4().hex[:8]}"
    keycloak_server.admin.request("POST", "groups", json={"name": group})
    with atlassian_emulator() as tenant:
        yield People(keycloak_server, tenant, group)


def _staff(people: People, count: int) -> list[tuple[str, str]]:
    return [people.add(f"wave-{n}-{uuid.uuid4().hex[:6]}") for n in range(count)]


def _inactive(tenant: Tenant, pairs: list[tuple[str, str]]) -> int:
    return sum(1 for _, account in pairs if tenant.status(account) == "inactive")


def _requests(tenant: Tenant, pairs: list[tuple[str, str]]) -> int:
    return sum(tenant.lifecycle_calls(account) for _, account in pairs)


async def _disable(people: People, pairs: list[tuple[str, str]]) -> None:
    for user_id, _ in pairs:
        await asyncio.to_thread(people.keycloak.admin.disable_user, user_id)


async def test_a_wave_of_30_against_a_budget_of_10_deactivates_exactly_10(
    people: People, tmp_path: Path
) -> None:
    staff = _staff(people, 40)
    wave = staff[:30]
    store = tmp_path / "state.db"
    settings = settings_for(people, store, policy=BUDGET, poll_interval=0.5)
    async with running_daemon(settings) as daemon:
        await eventually(lambda: daemon.reconciled, within=60)
        await _disable(people, wave)
        await eventually(lambda: len(getattr(read_hold(store), "people", ())) == 20, within=90)
        await asyncio.sleep(2.0)  # more polls: nothing else may go out
        assert _inactive(people.tenant, wave) == 10
        assert _requests(people.tenant, wave) == 10
        hold = read_hold(store)
        assert hold is not None
        assert hold.guards == ("deprovisioning-budget",)
        waiting = {w.identity_id for w in hold.waiting}
        assert waiting == {u for u, a in wave if people.tenant.status(a) == "active"}
        assert all(w.email and w.email.startswith("wave-") for w in hold.waiting)

        report = await release(settings, "the sales team left together")
        assert len(report.rechecks) == 20
    assert _inactive(people.tenant, wave) == 30
    assert _requests(people.tenant, wave) == 30
    assert _inactive(people.tenant, staff[30:]) == 0
    assert read_hold(store) is None, _dump(store)


@pytest.mark.skipif(not POSTGRES_URL, reason="set OFFBOARD_TEST_POSTGRES_URL for two replicas")
async def test_two_replicas_on_one_postgresql_store_spend_one_budget(
    people: People, tmp_path: Path
) -> None:
    _empty_postgres(POSTGRES_URL)
    staff = _staff(people, 40)
    wave = staff[:30]
    one, two = (_on_postgres(settings_for(people, tmp_path / "x", policy=BUDGET)) for _ in "12")
    async with (
        running_daemon(one, holder="replica-1") as first,
        running_daemon(two, holder="replica-2") as second,
    ):
        await eventually(lambda: first.reconciled or second.reconciled, within=60)
        await _disable(people, wave)
        await eventually(lambda: _held(POSTGRES_URL) == 20, within=90)
        await asyncio.sleep(2.0)
    assert _requests(people.tenant, wave) == 10
    assert _inactive(people.tenant, wave) == 10


def _on_postgres(settings: Settings) -> Settings:
    return settings.model_copy(update={"store": StoreSettings(url=SecretStr(POSTGRES_URL))})


def _held(url: str) -> int:
    store = open_store(url)
    try:
        hold = store.active_hold("deprovisioning")
        return len(hold.people) if hold is not None else 0
    finally:
        store.close()


def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    existing = MetaData()
    existing.reflect(engine)
    existing.drop_all(engine)
    engine.dispose()


def _dump(path: Path) -> str:
    """The holds and spent slots, to read when the assertion fails."""
    opened = open_store(path)
    try:
        with opened.engine.connect() as connection:
            holds = connection.execute(text("select * from holds")).fetchall()
            spend = connection.execute(
                text("select at, approved, run_id, identity_id from budget_spend order by id")
            ).fetchall()
    finally:
        opened.close()
    return "\n".join(str(row) for row in [*holds, *spend])
