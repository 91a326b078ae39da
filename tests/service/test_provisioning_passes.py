"""The daemon's passes with provisioning on, over both emulators (the demo's organisation)."""

from __future__ import annotations

import dataclasses
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from offboard.adapters.atlassian import AtlassianDirectory
from offboard.adapters.keycloak import KeycloakSource
from offboard.cli.demo import DOMAIN, build_emulators, demo_settings
from offboard.cli.demo_provisioning import add_teams_and_joiner, move_joiner
from offboard.cli.provision import provisioning_of
from offboard.cli.wiring import connect
from offboard.core.accounts import Account
from offboard.core.guards import ProvisioningThresholds
from offboard.core.identities import IdentityId
from offboard.core.journal import Phase, Status
from offboard.core.provisioning_model import People, Person, SelectedGroup
from offboard.ports import SystemClock
from offboard.service.gate import PassGate
from offboard.service.passes import PassReport
from offboard.service.provisioning_passes import ProvisioningPasses
from offboard.service.provisioning_waves import merge_people
from offboard.store import open_store
from offboard_emulators.atlassian import create_app as atlassian_app
from offboard_emulators.keycloak.app import create_app as keycloak_app
from offboard_emulators.keycloak.emulator import EmulatorState
from offboard_emulators.keycloak.model import User


class Leavers:
    """The deprovisioning passes, as the daemon would run them first (here: nothing to do)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.during_full: Callable[[], Awaitable[None]] | None = None
        """What happens while the deprovisioning part runs (an operator's act, say)."""

    async def full(self) -> PassReport:
        self.calls.append("full")
        if self.during_full is not None:
            await self.during_full()
        return _report("full")

    async def recheck(self, identity_id: IdentityId) -> PassReport:
        self.calls.append(f"recheck {identity_id}")
        return _report("recheck")

    async def wave(self, identity_ids: Sequence[IdentityId]) -> PassReport:
        self.calls.append(f"wave of {len(identity_ids)}")
        return _report("wave")


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


async def test_a_person_cut_off_during_the_leavers_part_is_left_alone_by_the_scim_part(
    world: tuple[EmulatorState, ProvisioningPasses, Leavers, str],
) -> None:
    """The whole full pass yields as one: an act during its deprovisioning part supersedes
    its person in the SCIM part too (no create, no group change for them from reads older
    than the act); the rest of the SCIM part goes on."""
    _, passes, leavers, joiner = world
    passes.gate = gate = PassGate()
    why = "operator request #3 (cutoff by alice)"

    async def cut_off() -> None:
        async with gate.interlude(why, {joiner}):
            pass

    leavers.during_full = cut_off
    async with gate.exclusive():
        report = await passes.full()
    outcomes = {
        (r.kind, r.identity_id): r
        for r in passes.store.journal()
        if r.phase is Phase.OUTCOME and r.kind.startswith("scim")
    }
    skipped = {key for key, r in outcomes.items() if r.status is Status.SKIPPED}
    theirs = {("scim_create_user", joiner), ("scim_add_members", joiner)}
    # The membership change named nobody else: skipped whole, and under their id too.
    whole = {key for key in outcomes if key[0] == "scim_add_members" and key[1] != joiner}
    assert len(whole) == 1
    assert skipped == theirs | whole
    assert all(why in outcomes[key].detail for key in skipped)
    assert [k for k, r in outcomes.items() if k[0] == "scim_create_group"] != []
    assert report.counts["provisioning_actions"] == 4
    assert gate.taken_over(joiner) is None  # forgotten after the pass


def _add_joiner(keycloak: EmulatorState, name: str, *paths: str) -> str:
    realm = keycloak.realm
    user = realm.add_user(
        User(str(uuid.uuid4()), name, realm.now_ms(), email=f"{name}@{DOMAIN}",
             first_name=name.title(), last_name="Joiner")
    )  # fmt: skip
    for path in paths:
        group = realm.group_by_path(path)
        assert group is not None
        realm.set_membership(user.id, group.id, member=True)
    realm._listing = None  # the emulator caches its sorted listing
    return user.id


async def test_a_wave_is_provisioned_in_one_plan_with_its_lookups_batched(
    world: tuple[EmulatorState, ProvisioningPasses, Leavers, str],
) -> None:
    """Joiners and movers of a wave: one provisioning run for all, their Atlassian accounts
    found in one search, not one run and one lookup per person (issue 18)."""
    keycloak, passes, leavers, joiner = world
    assert (await passes.full()).complete
    move_joiner(keycloak, joiner)
    new = [_add_joiner(keycloak, f"wave-joiner-{n}", "/staff", "/teams/design") for n in range(3)]
    directory = passes.provisioning.directory
    lookups: list[str] = []
    by_email, by_emails = directory.find_by_email, directory.find_by_emails

    async def one(email: str) -> Sequence[Account]:
        lookups.append("one")
        return await by_email(email)

    async def many(emails: list[str]) -> Sequence[Account]:
        lookups.append(f"{len(emails)} emails")
        return await by_emails(emails)

    directory.find_by_email, directory.find_by_emails = one, many  # type: ignore[method-assign]
    wave = [IdentityId(joiner), *map(IdentityId, new)]
    report = await passes.wave(wave)

    assert report.complete, report.problems
    assert leavers.calls[-1] == "wave of 4"
    assert lookups == ["4 emails"]
    runs = [r for r in passes.store.runs() if r.kind.startswith("provision-")]
    assert [r.kind for r in runs].count("provision-wave") == 1
    assert report.counts["provisioning_actions"] >= 4  # three users created, memberships
    for person in wave:  # each re-checked alone afterwards: nothing left to do
        again = await passes.recheck(person)
        assert again.counts["provisioning_actions"] == 0, person


def test_a_person_of_the_wave_whose_read_failed_is_left_out_and_said() -> None:
    """A failed read speaks for nobody (no SCIM user of theirs is read or planned) and
    blocks nobody else; its problem is reported."""
    now = datetime.now(UTC)
    ann = Person(IdentityId("id-ann"), "ann", "ann@example.com", "Ann", "A", True, frozenset())
    read = People((ann,), (SelectedGroup("g1", "/teams/a", "a"),), now, True, targeted=True)
    failed = People((), (), now, False, ("user id-bob: 503",), targeted=True)
    clock = SystemClock()
    merged, ok, problems = merge_people([IdentityId("id-ann"), IdentityId("id-bob")],
                                        [read, failed], clock)  # fmt: skip
    assert ok == ["id-ann"]
    assert merged.people == (ann,)
    assert merged.complete
    assert merged.targeted
    assert [g.id for g in merged.groups] == ["g1"]
    assert problems == ("user id-bob: 503",)
