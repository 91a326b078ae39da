"""The provisioning budget over time, over both emulators: a wave of joiners is held at the
budget, in its own category, and deprovisioning goes on; a release lets the next pass finish.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from offboard.adapters.atlassian import AtlassianDirectory
from offboard.adapters.keycloak import KeycloakSource
from offboard.cli.demo import DOMAIN, STAFF, build_emulators, demo_settings, person
from offboard.cli.flows import Wired
from offboard.cli.provision import provisioning_of
from offboard.cli.wiring import connect
from offboard.core.budget import BudgetCategory, absolute_budget
from offboard.core.identities import IdentityId
from offboard.core.journal import Status
from offboard.core.plan import Action
from offboard.core.policy import ActionKind
from offboard.executor import ApplyReport
from offboard.service.holds import release_category
from offboard.service.provisioning import Provisioning
from offboard.service.reconciling import recheck_identity, reconcile
from offboard.store import SqlStore, open_store
from offboard_emulators.atlassian import create_app as atlassian_app
from offboard_emulators.keycloak.app import create_app as keycloak_app
from offboard_emulators.keycloak.emulator import EmulatorState
from offboard_emulators.keycloak.model import Group, User

CREATES = BudgetCategory.PROVISIONING_CREATES.value
JOINERS = 30


@dataclass
class World:
    keycloak: EmulatorState
    provisioning: Provisioning
    wired: Wired
    store: SqlStore


def add_joiners(keycloak: EmulatorState, count: int) -> None:
    """``count`` new people in the scope group, with no Atlassian account yet (and the
    /teams group the demo's settings push, with no team under it: users only)."""
    realm = keycloak.realm
    realm.add_group(Group(str(uuid.uuid4()), "teams"))
    staff = realm.group_by_path(STAFF)
    assert staff is not None
    for n in range(count):
        name = f"joiner-{n:02}"
        user = realm.add_user(
            User(str(uuid.uuid4()), name, realm.now_ms(), email=f"{name}@{DOMAIN}")
        )
        realm.set_membership(user.id, staff.id, member=True)
    realm._listing = None  # the emulator caches its sorted listing


@pytest.fixture
async def world() -> AsyncIterator[World]:
    keycloak, atlassian = build_emulators(20)
    add_joiners(keycloak, JOINERS)
    transports = {
        "keycloak_transport": httpx.ASGITransport(app=keycloak_app(keycloak)),
        "atlassian_transport": httpx.ASGITransport(app=atlassian_app(atlassian)),
    }
    settings = demo_settings()
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(Path(folder) / "s.sqlite3")
        try:
            async with connect(settings, store=store, **transports) as wired:
                assert isinstance(wired.source, KeycloakSource)
                assert isinstance(wired.directory, AtlassianDirectory)
                provisioning = provisioning_of(settings, wired.source, wired.directory)
                provisioning.budgets = {CREATES: absolute_budget(10, 10)}
                yield World(keycloak, provisioning, wired, store)
        finally:
            store.close()


async def provisioning_pass(world: World) -> tuple[int, list[ApplyReport]]:
    """Plan from fresh reads and apply: (joiners' creates planned, reports). Once the
    reconciliation links the demo's people to their accounts, their SCIM users are planned
    too (their own accounts brought under SCIM); only the joiners' wave is counted here."""
    clock = world.wired.clock
    plan = await world.provisioning.plan(clock, store=world.store)
    assert not plan.blocked_by, [g.message for g in plan.blocked_by]
    creates = sum(1 for a in plan.actions if a.kind is ActionKind.SCIM_CREATE_USER and joiner(a))
    run_id = world.store.start_run("provision", clock.now())
    reports = await world.provisioning.apply(plan, store=world.store, clock=clock, run_id=run_id)
    return creates, reports


def joiner(action: Action) -> bool:
    return (action.email or "").startswith("joiner-")


def count(reports: list[ApplyReport], status: Status) -> int:
    return sum(1 for r in reports for o in r.outcomes if o.status is status and joiner(o.action))


@pytest.mark.slow
async def test_thirty_creates_against_ten_send_ten_and_hold_twenty_until_released(
    world: World,
) -> None:
    planned, reports = await provisioning_pass(world)
    assert planned == JOINERS
    assert count(reports, Status.SUCCEEDED) == 10
    assert count(reports, Status.HELD) == 20
    hold = world.store.active_hold(CREATES)
    assert hold is not None
    assert hold.guards == ("provisioning-budget",)
    assert len(hold.waiting) == 20
    assert {w.kind for w in hold.waiting} == {"scim_create_user"}
    assert "10 provisioning-creates actions in the last hour, the budget is 10" in hold.message
    assert world.store.active_hold(BudgetCategory.DEPROVISIONING.value) is None

    # The hold stops the next pass of creates entirely: nothing more is sent.
    planned, reports = await provisioning_pass(world)
    assert planned == 20
    assert count(reports, Status.SUCCEEDED) == 0
    assert count(reports, Status.HELD) == 20

    # Deprovisioning is not affected: once linked, a leaver is deactivated meanwhile.
    first = await reconcile(
        source=world.wired.source,
        directory=world.wired.directory,
        store=world.store,
        policy=world.wired.policy,
        clock=world.wired.clock,
        apply=True,
    )
    assert first.status == "applied", first.problems
    leaver = world.keycloak.realm.user_by_username(person(3))
    assert leaver is not None
    leaver.enabled = False
    run = await recheck_identity(
        IdentityId(leaver.id),
        source=world.wired.source,
        directory=world.wired.directory,
        store=world.store,
        policy=world.wired.policy,
        clock=world.wired.clock,
    )
    assert run.status == "applied", run.problems
    assert run.applied is not None, run.plan
    assert [o.status for o in run.applied.outcomes if o.action.is_deprovisioning] == [
        Status.SUCCEEDED
    ]

    released = release_category(
        world.store, CREATES, clock=world.wired.clock, by="ada", reason="a new department"
    )
    assert released.id == hold.id
    assert world.store.active_hold(CREATES) is None
    planned, reports = await provisioning_pass(world)
    assert planned == 20
    assert count(reports, Status.SUCCEEDED) == 20
    assert count(reports, Status.HELD) == 0
    planned, _ = await provisioning_pass(world)
    assert planned == 0
