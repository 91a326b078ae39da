"""The hold on the console: who waits (by name and email), released by an operator only."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from offboard.cli.demo import DOMAIN, person
from offboard.cli.exit_codes import ExitCode
from tests.cli.test_run_commands import World
from tests.server.console.conftest import ADA, TOKEN, VIC, Console, console_of

LEAVERS = [person(n) for n in (3, 4, 5)]


@pytest.fixture
def held_world(budget_of_one: World, runner: CliRunner) -> World:
    """Three leavers, a budget of one: one deactivated, two wait on the hold."""
    for n, name in enumerate(LEAVERS):
        budget_of_one.disable(name)
        user = budget_of_one.keycloak_user(name)
        user.first_name, user.last_name = "Leaver", f"Number{n}"  # type: ignore[attr-defined]
    code, output = budget_of_one.run(runner, "apply", "--yes")
    assert code == ExitCode.BLOCKED, output
    return budget_of_one


@pytest.fixture
async def held(held_world: World) -> AsyncIterator[Console]:
    async for made in console_of(held_world):
        yield made


def waiting(world: World) -> list[str]:
    return [n for n in LEAVERS if world.account_status(f"{n}@{DOMAIN}") == "active"]


def hold_section(page: str) -> str:
    found = re.search(r"<section[^>]*data-testid='hold'.*?</section>", page, re.S)
    assert found is not None, page
    return found.group(0)


async def test_an_operator_sees_who_waits_and_releases_the_hold(held: Console) -> None:
    names = waiting(held.world)
    assert len(names) == 2
    async with held.client(ADA) as client:
        page = (await client.get("/")).text
        section = hold_section(page)
        for name in names:
            assert f"{name}@{DOMAIN}" in section
            assert f"Leaver Number{LEAVERS.index(name)}" in section  # the name Keycloak holds
            user_id = held.world.keycloak_user(name).id  # type: ignore[attr-defined]
            assert f"Keycloak id {user_id}" in section  # on hover
        assert "data-testid='release-hold'" in section
        assert "<textarea name='reason'" in section
        assert ">Release hold</button>" in section
        assert f"name='csrf_token' value='{TOKEN}'" in section
        assert "Nothing needs you" not in page
        hold = held.store.active_hold("deprovisioning")
        assert hold is not None
        form = {"csrf_token": TOKEN, "hold_id": str(hold.id), "category": "deprovisioning",
                "reason": "HR confirmed the three leavers"}  # fmt: skip
        response = await client.post("/act/release-hold", data=form)
        assert response.status_code == 303
        outcome = (await client.get(response.headers["location"])).text
        assert "2 people re-planned, 2 acted on" in outcome, outcome
        assert waiting(held.world) == []
        history = (await client.get("/history")).text
        rows = re.findall(r"<tr data-testid='history-row'>.*?</tr>", history, re.S)
        deactivations = [r for r in rows if "deactivate" in r and "verified" in r]
        assert len(deactivations) >= 3
        released = [r for r in rows if "released by console:ada (sub sub-ada): HR confirmed" in r]
        assert released, history
        after = (await client.get("/")).text
        assert "data-testid='hold'" not in after


async def test_a_viewer_sees_the_hold_but_no_form_and_is_refused_the_release(
    held: Console,
) -> None:
    hold = held.store.active_hold("deprovisioning")
    assert hold is not None
    records = len(held.store.journal())
    async with held.client(VIC) as client:
        page = (await client.get("/")).text
        section = hold_section(page)
        assert f"{waiting(held.world)[0]}@{DOMAIN}" in section
        assert "<form" not in page.split("<h2>Budget")[0]
        form = {"csrf_token": TOKEN, "hold_id": str(hold.id), "reason": "I want to"}
        response = await client.post("/act/release-hold", data=form)
        assert response.status_code == 403
    async with held.client(None) as anonymous:
        response = await anonymous.post("/act/release-hold", data=form)
        assert response.status_code == 401  # the login's answer: no session
    assert held.store.active_hold("deprovisioning") == hold
    assert len(held.store.journal()) == records
    assert len(waiting(held.world)) == 2


async def test_a_release_needs_a_reason_and_the_hold_that_was_shown(held: Console) -> None:
    hold = held.store.active_hold("deprovisioning")
    assert hold is not None
    async with held.client(ADA) as client:
        empty = {"csrf_token": TOKEN, "hold_id": str(hold.id), "reason": "   "}
        assert (await client.post("/act/release-hold", data=empty)).status_code == 400
        other = {"csrf_token": TOKEN, "hold_id": str(hold.id + 7), "reason": "ok"}
        response = await client.post("/act/release-hold", data=other)
        assert response.status_code == 303
        outcome = (await client.get(response.headers["location"])).text
        assert "not the one shown" in outcome
        assert "data-ok='false'" in outcome
    assert held.store.active_hold("deprovisioning") == hold


async def test_while_a_daemon_leads_the_release_is_recorded_and_left_to_it(
    held: Console,
) -> None:
    hold = held.store.active_hold("deprovisioning")
    assert hold is not None
    assert held.store.acquire_lease("daemon", "daemon-1", timedelta(hours=1), datetime.now(UTC))
    try:
        async with held.client(ADA) as client:
            form = {"csrf_token": TOKEN, "hold_id": str(hold.id), "reason": "HR confirmed"}
            response = await client.post("/act/release-hold", data=form)
            outcome = (await client.get(response.headers["location"])).text
        assert "The leading daemon re-plans the 2 people" in outcome, outcome
        assert held.store.active_hold("deprovisioning") is None
        assert len(waiting(held.world)) == 2  # nothing sent by the console itself
    finally:
        held.store.release_lease("daemon", "daemon-1")


async def test_while_this_process_leads_the_release_acts_at_once_under_its_lease(
    held: Console,
) -> None:
    """The console lives in the daemon: when that daemon leads, the act writes under the
    daemon's lease (its fence) instead of waiting for the next pass."""
    lease = held.assembly.daemon.lease
    assert lease.refresh()
    try:
        hold = held.store.active_hold("deprovisioning")
        assert hold is not None
        async with held.client(ADA) as client:
            form = {"csrf_token": TOKEN, "hold_id": str(hold.id), "reason": "HR confirmed"}
            response = await client.post("/act/release-hold", data=form)
            outcome = (await client.get(response.headers["location"])).text
        assert "2 people re-planned, 2 acted on" in outcome, outcome
        assert waiting(held.world) == []
    finally:
        lease.release()
