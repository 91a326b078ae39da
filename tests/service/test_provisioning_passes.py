"""The daemon's passes with provisioning on, over both emulators (the demo's organisation)."""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from offboard.adapters.atlassian import AtlassianDirectory
from offboard.adapters.keycloak import KeycloakSource
from offboard.cli.demo import DOMAIN, build_emulators, demo_settings
from offboard.cli.demo_provisioning import add_teams_and_joiner, move_joiner
from offboard.cli.provision import provisioning_of
from offboard.cli.wiring import connect
from offboard.core.guards import ProvisioningThresholds
from offboard.core.identities import IdentityId
from offboard.service.passes import PassReport
from offboard.service.provisioning_passes import ProvisioningPasses
from offboard.store import open_store
from offboard_emulators.atlassian import create_app as atlassian_app
from offboard_emulators.keycloak.app import create_app as keycloak_app
from offboard_emulators.keycloak.emulator import EmulatorState


class Leavers:
    """The deprovisioning passes, as the daemon would run them first (here: nothing to do)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def full(self) -> PassReport:
        self.calls.append("full")
        return _report("full")

    async def recheck(self, identity_id: IdentityId) -> PassReport:
        self.calls.append(f"recheck {identity_id}")
        return _report("recheck")


def _report(kind: str) -> PassReport:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    return PassReport(kind, now, now, complete=True, counts={"actions": 0})


@pytest.fixture
async def world() -> AsyncIterator[tuple[EmulatorState, ProvisioningPasses, Leavers, str]]:
    keycloak, atlassian = build_emulators(20)
    joiner = add_teams_and_joiner(keycloak, DOMAIN, "/staff")
    transports = {
        "keycloak_transport": httpx.ASGITransport(app=keycloak_app(keycloak)),
        "atlassian_transport": httpx.ASGITransport(app=atlassian_app(atlassian)),
    }
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(Path(folder) / "s.sqlite3")
        try:
            async with connect(demo_settings(), store=store, **transports) as wired:
                assert isinstance(wired.source, KeycloakSource)
                assert isinstance(wired.directory, AtlassianDirectory)
                provisioning = provisioning_of(demo_settings(), wired.source, wired.directory)
                leavers = Leavers()
                yield (
                    keycloak,
                    ProvisioningPasses(leavers, provisioning, store, wired.clock),
                    leavers,
                    joiner,
                )
        finally:
            store.close()


async def test_a_full_pass_then_a_recheck_provision_after_the_leavers(
    world: tuple[EmulatorState, ProvisioningPasses, Leavers, str],
) -> None:
    keycloak, passes, leavers, joiner = world
    full = await passes.full()
    assert full.complete, full.problems
    assert full.counts["provisioning_actions"] == 4  # nora, two groups, one membership
    assert {a.kind for a in full.actions} >= {"scim_create_user", "scim_add_members"}
    move_joiner(keycloak, joiner)
    recheck = await passes.recheck(IdentityId(joiner))
    assert recheck.counts["provisioning_actions"] == 2
    assert leavers.calls == ["full", f"recheck {joiner}"]
    again = await passes.recheck(IdentityId(joiner))
    assert again.counts["provisioning_actions"] == 0


async def test_a_blocked_provisioning_plan_is_reported_not_raised(
    world: tuple[EmulatorState, ProvisioningPasses, Leavers, str],
) -> None:
    _, passes, _, _ = world
    passes.provisioning = dataclasses.replace(
        passes.provisioning, thresholds=ProvisioningThresholds(max_creates=0)
    )
    report = await passes.full()
    assert not report.complete
    assert any("max-creates" in problem for problem in report.problems)
    assert report.counts["provisioning_actions"] == 0
