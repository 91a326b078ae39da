"""The reproductions of issue 11 against the emulators, with the daemon over real sockets.

A mass disable arrives as many one-person events. With a deprovisioning budget of 10 per
hour, a wave of 30 deactivates exactly 10, holds 20 with their names, survives a restart
with nothing more sent, and finishes the rest after a human releases the hold. A wave that
arrives while no daemon runs is judged by the first full pass as one plan: its guard puts the
hold, and the re-checks of the same people wait on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from offboard.settings import Settings
from offboard.store import open_store
from offboard_emulators.common.server import serve_in_thread
from offboard_emulators.keycloak.app import create_app
from offboard_emulators.keycloak.emulator import EmulatorState
from tests.e2e.harness import (
    Tenant,
    atlassian_emulator,
    daemon_settings,
    eventually,
    fetch,
    running_daemon,
)
from tests.e2e.waves import EMULATED_REREAD_DELAY, EmulatedPeople, read_hold, release
from tests.server.login_helpers import console_headers, console_section

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REALM_FILE = Path(__file__).parents[1] / "keycloak" / "realm-offboard-test.json"
SECRET = "emulated-client-secret"


@pytest.fixture
def world() -> Iterator[tuple[str, EmulatedPeople]]:
    state = EmulatorState.from_seed_file(REALM_FILE, {"OFFBOARD_TEST_CLIENT_SECRET": SECRET})
    with serve_in_thread(create_app(state)) as url, atlassian_emulator() as tenant:
        yield url, EmulatedPeople(state, tenant)


def settings_for(url: str, tenant: Tenant, store: Path, **policy: Any) -> Settings:
    return daemon_settings(
        keycloak_url=url,
        realm="offboard-test",
        client_id="offboard",
        client_secret=SECRET,
        tenant=tenant,
        store=store,
        poll_interval=0.3,
        policy={"budget": {"hour_max_actions": 10}, **policy},
        extra={"console": console_section()},
    )


async def test_a_wave_of_30_deactivates_exactly_the_budget_and_holds_the_rest_across_a_restart(
    world: tuple[str, EmulatedPeople], tmp_path: Path
) -> None:
    url, people = world
    people.add(40)
    store = tmp_path / "state.db"
    settings = settings_for(url, people.tenant, store)
    wave = people.ids[:30]
    async with running_daemon(settings) as daemon:
        await eventually(lambda: daemon.reconciled, within=30)
        people.disable(wave)
        await eventually(lambda: (read_hold(store) or _NONE).people.__len__() == 20, within=60)
        await asyncio.sleep(1.5)  # five more polls: nothing else may go out
        assert len(people.inactive(wave)) == 10
        assert people.disable_requests(wave) == 10
        hold = read_hold(store)
        assert hold is not None
        assert hold.guards == ("deprovisioning-budget",)
        assert "10 deprovisioning actions in the last hour, the budget is 10" in hold.message
        assert set(hold.people) == set(wave) - set(people.inactive(wave))
        assert {w.email for w in hold.waiting} == {
            f"{people.state.realm.users[u].username}@example.test" for u in hold.people
        }
        page = (await fetch("GET", daemon.url + "/", headers=console_headers(settings))).text
        assert f"Hold #{hold.id} on deprovisioning: 20 waiting" in page  # the console's words
        assert page.count("data-testid='waiting'") == 20  # everyone waiting, by name
        metrics = (await fetch("GET", daemon.url + "/metrics")).text
        assert "offboard_hold_active 1.0" in metrics
        assert "offboard_hold_waiting 20.0" in metrics
        assert 'offboard_budget_used{window="hour"} 10.0' in metrics
        assert 'offboard_budget_left{window="hour"} 0.0' in metrics

    # A restart does not reset anything: the new daemon's full pass finds the hold.
    async with running_daemon(settings) as daemon:
        await eventually(lambda: daemon.reconciled, within=30)
        await asyncio.sleep(1.0)
        assert len(people.inactive(wave)) == 10
        assert people.disable_requests(wave) == 10
        held_again = read_hold(store)
        assert held_again is not None
        assert held_again.id == hold.id
        assert len(held_again.people) == 20

        report = await release(
            settings, "HR confirmed the sales team left", reread_delay=EMULATED_REREAD_DELAY
        )
        assert len(report.rechecks) == 20
        assert [run.status for _, run, _ in report.rechecks if run] == ["applied"] * 20
        assert sorted(people.inactive(wave)) == sorted(wave)
        assert people.disable_requests(wave) == 30  # one request per person, never two
        assert people.inactive(people.ids[30:]) == []
        assert read_hold(store) is None
        page = (await fetch("GET", daemon.url + "/", headers=console_headers(settings))).text
        assert "data-kind='hold'" not in page
        assert "data-kind='blocked-plan'" not in page
    _assert_release_journaled(store, hold.id, 20)


async def test_a_wave_while_the_daemon_was_down_is_held_by_the_first_full_pass(
    world: tuple[str, EmulatedPeople], tmp_path: Path
) -> None:
    """Issue 11, reproduction 2 and 3: the blocked full pass holds the re-checks too, and the
    status page never shows as waiting what was carried out."""
    url, people = world
    people.add(60)
    store = tmp_path / "state.db"
    thresholds = {"max_source_drop_percent": 10, "max_deactivations": 25}
    settings = settings_for(url, people.tenant, store, thresholds=thresholds)
    async with running_daemon(settings) as daemon:
        await eventually(lambda: daemon.reconciled, within=30)
    wave = people.ids[:30]
    people.disable(wave)  # 30 events wait in Keycloak for the next daemon
    async with running_daemon(settings) as daemon:
        status = daemon.assembly.status
        # The 30 events are re-checked as one wave: one plan, blocked by the same guards.
        await eventually(lambda: _blocked_wave_of(status, wave), within=60)
        assert people.inactive(wave) == []
        assert people.disable_requests(wave) == 0
        hold = read_hold(store)
        assert hold is not None
        assert hold.guards == ("max-deactivations", "max-deactivation-percent")
        assert sorted(hold.people) == sorted(wave)

        await release(settings, "a department really left", reread_delay=EMULATED_REREAD_DELAY)
        assert sorted(people.inactive(wave)) == sorted(wave)
        assert people.disable_requests(wave) == 30
        page = (await fetch("GET", daemon.url + "/", headers=console_headers(settings))).text
        assert "data-kind='blocked-plan'" not in page  # nothing done is shown as waiting for review
        assert "max-deactivations" not in page.split("Recent reconciliations")[0]


def _blocked_wave_of(status: Any, ids: list[str]) -> bool:
    """A wave's plan covering everyone in ``ids`` was blocked by the full pass's guards."""
    for report in status.passes:
        if report.kind != "wave" or report.plan is None:
            continue
        planned = {action.identity_id for action in report.plan.actions}
        guards = report.blocked_guards
        if planned >= set(ids) and guards == ("max-deactivations", "max-deactivation-percent"):
            return True
    return False


def _assert_release_journaled(store: Path, hold_id: int, waiting: int) -> None:
    opened = open_store(store)
    try:
        notes = [r for r in opened.journal() if r.action_key == f"hold-release:{hold_id}"]
    finally:
        opened.close()
    assert len(notes) == 1
    assert "released by test-operator: HR confirmed the sales team left" in notes[0].detail
    assert f"{waiting} people waiting" in notes[0].detail


class _NoHold:
    people: tuple[str, ...] = ()


_NONE = _NoHold()


@pytest.mark.timeout(600)  # 300 re-checks held, then 290 re-planned: about two minutes
async def test_a_wave_of_300_deactivates_exactly_the_budget_then_the_release_finishes_it(
    world: tuple[str, EmulatedPeople], tmp_path: Path
) -> None:
    url, people = world
    people.add(320)
    store = tmp_path / "state.db"
    # The 300 events arrive together and are planned as one wave: its blast-radius guards
    # would hold all 300 (see the test above); raised here, the budget is what holds them.
    thresholds = {"max_source_drop_percent": 100, "max_deactivations": 1000,
                  "max_deactivation_percent": 100}  # fmt: skip
    settings = settings_for(url, people.tenant, store, thresholds=thresholds)
    wave = people.ids[:300]
    async with running_daemon(settings) as daemon:
        await eventually(lambda: daemon.reconciled, within=60)
        people.disable(wave)
        await eventually(lambda: len(getattr(read_hold(store), "people", ())) == 290, within=300)
        await asyncio.sleep(1.0)
        assert people.disable_requests(wave) == 10
        assert len(people.inactive(wave)) == 10
        report = await release(
            settings, "a whole office closed", reread_delay=EMULATED_REREAD_DELAY
        )
        assert len(report.rechecks) == 290
    assert len(people.inactive(wave)) == 300
    assert people.disable_requests(wave) == 300
    assert people.inactive(people.ids[300:]) == []
