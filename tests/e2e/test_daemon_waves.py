"""Waves through the running daemon, against both emulators over loopback sockets (issue 18).

A mass disable arrives as one admin event per person; the daemon plans the people whose
events arrived together as ONE targeted plan, under the same budget and holds as every
other path, and a person whose read fails is retried without holding back the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from offboard.core.journal import Phase, Status
from offboard.store import open_store
from offboard_emulators.common.faults import FaultConfig
from offboard_emulators.common.server import serve_in_thread
from offboard_emulators.keycloak.app import create_app
from offboard_emulators.keycloak.emulator import EmulatorState
from tests.e2e.harness import atlassian_emulator, eventually, running_daemon
from tests.e2e.test_budget_waves import REALM_FILE, SECRET, settings_for
from tests.e2e.waves import EMULATED_REREAD_DELAY, EmulatedPeople, read_hold, release

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def world() -> Iterator[tuple[str, EmulatedPeople]]:
    state = EmulatorState.from_seed_file(REALM_FILE, {"OFFBOARD_TEST_CLIENT_SECRET": SECRET})
    with serve_in_thread(create_app(state)) as url, atlassian_emulator() as tenant:
        yield url, EmulatedPeople(state, tenant)


def wave_runs(store: Path) -> list[str]:
    """The status of each wave run in the store, oldest first."""
    opened = open_store(store)
    try:
        return [run.status for run in reversed(opened.runs(500)) if run.kind == "wave"]
    finally:
        opened.close()


async def test_a_wave_of_30_is_one_plan_held_at_the_budget_then_released_all_done(
    world: tuple[str, EmulatedPeople], tmp_path: Path
) -> None:
    url, people = world
    people.add(40)
    store = tmp_path / "state.db"
    settings = settings_for(url, people.tenant, store)  # budget: 10 per hour
    wave = people.ids[:30]
    async with running_daemon(settings) as daemon:
        await eventually(lambda: daemon.reconciled, within=30)
        people.disable(wave)
        await eventually(lambda: len(getattr(read_hold(store), "people", ())) == 20, within=60)
        await asyncio.sleep(1.0)  # more polls: nothing else may go out
        assert daemon.assembly.daemon.queues.sizes == [30]  # type: ignore[attr-defined]
        assert wave_runs(store) == ["held"]
        assert people.disable_requests(wave) == 10  # deprovisioned beyond the budget: 0
        assert len(people.inactive(wave)) == 10
        hold = read_hold(store)
        assert hold is not None
        assert hold.guards == ("deprovisioning-budget",)

        report = await release(settings, "the team really left", reread_delay=EMULATED_REREAD_DELAY)
        assert len(report.rechecks) == 20
    assert sorted(people.inactive(wave)) == sorted(wave)
    assert people.disable_requests(wave) == 30  # one request per person, never two
    assert people.inactive(people.ids[30:]) == []


async def test_one_person_whose_read_fails_is_retried_and_the_others_go_on(
    world: tuple[str, EmulatedPeople], tmp_path: Path
) -> None:
    url, people = world
    people.add(12)
    store = tmp_path / "state.db"
    settings = settings_for(url, people.tenant, store, budget={"hour_max_actions": 100})
    wave = people.ids[:10]
    unlucky = wave[3]
    async with running_daemon(settings) as daemon:
        await eventually(lambda: daemon.reconciled, within=30)
        # Every read of this one person answers 503 (after the adapter's own retries). They
        # are deleted: only a read by id (its 404) can prove it, not the listing of disabled.
        people.state.faults.configure(
            FaultConfig(error_rate=1.0, error_status=503, path_contains=unlucky)
        )
        others = [u for u in wave if u != unlucky]
        people.disable(others)
        people.delete([unlucky])
        await eventually(lambda: sorted(people.inactive(wave)) == sorted(others), within=60)
        assert people.inactive([unlucky]) == []
        people.state.faults.configure(FaultConfig())  # Keycloak answers again
        await eventually(lambda: people.inactive([unlucky]) == [unlucky], within=60)
        sizes = daemon.assembly.daemon.queues.sizes  # type: ignore[attr-defined]
    assert sizes[0] == 10
    assert len(sizes) > 1  # only the unlucky one again, alone
    assert all(size == 1 for size in sizes[1:])
    assert people.disable_requests(wave) == 10
    assert people.inactive(people.ids[10:]) == []


async def test_a_wave_of_30_reads_back_in_batches_not_one_account_at_a_time(
    world: tuple[str, EmulatedPeople], tmp_path: Path
) -> None:
    """Requests by kind (issue 18): a disable per person, the read-backs as searches (by up
    to a hundred emails, or ten account ids), the lookups as one email search per hundred
    people; a read by id only for an account a search answer lacked (none here)."""
    url, people = world
    people.add(30)
    store = tmp_path / "state.db"
    settings = settings_for(url, people.tenant, store, budget={"hour_max_actions": 100})
    log = people.tenant.parts.log
    async with running_daemon(settings) as daemon:
        await eventually(lambda: daemon.reconciled, within=30)
        before = len(log.entries())
        people.disable(people.ids)
        await eventually(lambda: len(verified(store)) == 30, within=60)
        sizes = daemon.assembly.daemon.queues.sizes  # type: ignore[attr-defined]
        sent = log.entries()[before:]
    disables = [e for e in sent if e.path.endswith("/manage/lifecycle/disable")]
    searches = [e for e in sent if e.method == "POST" and e.path.endswith("/users/search")]
    by_id = [e for e in sent if e.method == "GET" and "/users/" in e.path]
    assert len(disables) == 30
    lookups = sum(-(-size // 100) for size in sizes)  # one email search per 100 of a wave
    readbacks = len(searches) - lookups
    assert 1 <= readbacks <= 3 + len(sizes)  # never one a person; a partial one per wave
    assert by_id == []
    assert len(sent) == len(disables) + len(searches)


def verified(store: Path) -> set[str]:
    """Who has a verified read-back in the journal."""
    opened = open_store(store)
    try:
        return {
            r.identity_id
            for r in opened.journal()
            if r.phase is Phase.READBACK and r.status is Status.VERIFIED
        }
    finally:
        opened.close()
