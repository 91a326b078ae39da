"""The pipeline against both emulators over loopback sockets: link, deactivate, re-check.

Keycloak is the emulator seeded with the test realm (alice, bob disabled, carol, dave);
Atlassian is the emulator with one managed account per person on the verified domain.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from offboard.adapters.atlassian import AtlassianDirectory
from offboard.adapters.keycloak import KeycloakSource
from offboard.core.identities import IdentityId
from offboard.core.journal import Phase, Status
from offboard.core.policy import ActionKind, Policy
from offboard.ports import SystemClock
from offboard.service.reconciling import RunReport, recheck_identity, reconcile
from offboard.store import SqlStore, open_store
from offboard_emulators.keycloak.emulator import EmulatorState
from tests.contract.targets import EMULATOR_SECRET, socket_emulator
from tests.e2e.harness import DIRECTORY, DOMAIN, ORG_ID, ORG_KEY, OWNER_ID, Tenant
from tests.e2e.harness import atlassian_emulator as atlassian_tenant

pytestmark = pytest.mark.e2e

PEOPLE = ("alice", "bob", "carol", "dave")
POLICY = Policy(domains=frozenset({DOMAIN}))


@pytest.fixture
def keycloak() -> Iterator[tuple[str, EmulatorState]]:
    """The test realm with everyone enabled, so that the first run links all four."""
    with socket_emulator() as running:
        _set_enabled(running[1], "bob", True)
        yield running


def _set_enabled(state: EmulatorState, username: str, enabled: bool) -> None:
    user = next(u for u in state.realm.users.values() if u.username == username)
    user.enabled = enabled


@pytest.fixture
def tenant() -> Iterator[Tenant]:
    with atlassian_tenant() as running:
        yield running


@pytest.fixture
def accounts(tenant: Tenant) -> dict[str, str]:
    return {name: tenant.add_account(f"{name}@{DOMAIN}") for name in PEOPLE}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = open_store(tmp_path / "offboard.sqlite3")
    yield opened
    opened.close()


def _source(url: str, state: EmulatorState) -> KeycloakSource:
    realm = state.realm.settings.name
    return KeycloakSource(url, realm, "offboard", SecretStr(EMULATOR_SECRET), reread_delay=0.0)


def _directory(tenant: Tenant) -> AtlassianDirectory:
    return AtlassianDirectory(
        org_id=ORG_ID, org_key=ORG_KEY, base_url=tenant.url, directory_id=DIRECTORY,
        key_owner_account_id=OWNER_ID, rate_per_second=200, burst=20,
    )  # fmt: skip


async def _reconcile(
    keycloak: tuple[str, EmulatorState], tenant: Tenant, store: SqlStore
) -> RunReport:
    async with _source(*keycloak) as source, _directory(tenant) as directory:
        return await reconcile(
            source=source, directory=directory, store=store, policy=POLICY, clock=SystemClock(),
            apply=True,
        )  # fmt: skip


def _user_id(state: EmulatorState, username: str) -> str:
    return next(u.id for u in state.realm.users.values() if u.username == username)


async def test_reconcile_links_then_deactivates_the_leaver_only(
    keycloak: tuple[str, EmulatorState], tenant: Tenant, store: SqlStore, accounts: dict[str, str]
) -> None:
    first = await _reconcile(keycloak, tenant, store)
    assert first.status == "applied", first.summary
    assert {link.account_id for link in store.links()} >= set(accounts.values())
    assert all(tenant.status(account) == "active" for account in accounts.values())

    _set_enabled(keycloak[1], "bob", False)
    second = await _reconcile(keycloak, tenant, store)
    assert second.status == "applied", second.summary
    assert second.plan is not None
    kinds = {(a.kind, a.account_id) for a in second.plan.actions}
    assert kinds == {(ActionKind.DEACTIVATE, accounts["bob"])}
    assert tenant.status(accounts["bob"]) == "inactive"
    readbacks = [r for r in store.journal(run_id=second.run_id) if r.phase is Phase.READBACK]
    assert [r.status for r in readbacks] == [Status.VERIFIED]

    third = await _reconcile(keycloak, tenant, store)
    assert third.plan is not None
    assert third.plan.actions == ()
    assert tenant.lifecycle_calls(accounts["bob"]) == 1


async def test_recheck_deactivates_a_deleted_identity_by_its_link(
    keycloak: tuple[str, EmulatorState], tenant: Tenant, store: SqlStore, accounts: dict[str, str]
) -> None:
    await _reconcile(keycloak, tenant, store)
    url, state = keycloak
    dave = _user_id(state, "dave")
    state.realm.remove_user(dave)
    async with _source(url, state) as source, _directory(tenant) as directory:
        report = await recheck_identity(
            IdentityId(dave), source=source, directory=directory, store=store, policy=POLICY,
            clock=SystemClock(),
        )  # fmt: skip
    assert report.status == "applied", report.summary
    assert tenant.status(accounts["dave"]) == "inactive"
    assert tenant.status(accounts["carol"]) == "active"
    assert tenant.lifecycle_calls(accounts["dave"]) == 1
