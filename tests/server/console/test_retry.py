"""Retrying a failed action, from the console and from `offboard retry`: the same service
function, re-planning the person from fresh reads; refused when nothing failed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from offboard.cli.demo import DOMAIN, person
from offboard.cli.exit_codes import ExitCode
from offboard.core.journal import JournalRecord, Phase, Status
from offboard.store import open_store
from tests.cli.test_run_commands import World
from tests.server.console.conftest import ADA, TOKEN, VIC, Console


def failed_deactivation(world: World, n: int) -> str:
    """Person n left; the journal says their deactivation failed (Atlassian was down)."""
    name = person(n)
    world.disable(name)
    user_id = world.keycloak_user(name).id  # type: ignore[attr-defined]
    store = open_store(world.store)
    try:
        (link,) = store.links(identity_ids=[user_id])
        key = f"deactivate:{user_id}:{link.account_id}"
        run_id = store.start_run("daemon", datetime.now(UTC))
        store.append(JournalRecord(
            at=datetime.now(UTC), run_id=run_id, action_key=key, phase=Phase.OUTCOME,
            status=Status.FAILED, kind="deactivate", identity_id=user_id,
            account_id=link.account_id, email=f"{name}@{DOMAIN}", rule="identity-disabled",
            detail="HTTP 503 from Atlassian after 4 attempts",
        ))  # fmt: skip
        store.finish_run(run_id, datetime.now(UTC), "incomplete", {})
    finally:
        store.close()
    return key


@pytest.fixture
def failed_key(linked: World) -> str:
    return failed_deactivation(linked, 14)


async def test_an_operator_retries_a_failed_action_from_the_console(
    failed_key: str, console: Console
) -> None:
    email = f"{person(14)}@{DOMAIN}"
    async with console.client(VIC) as viewer:
        page = (await viewer.get("/")).text
        assert "data-testid='retry-action'" not in page
        form = {"csrf_token": TOKEN, "action_key": failed_key, "reason": "Atlassian is back"}
        assert (await viewer.post("/act/retry", data=form)).status_code == 403
    assert console.world.account_status(email) == "active"
    async with console.client(ADA) as client:
        page = (await client.get("/")).text
        items = re.findall(r"<section[^>]*data-kind='failed-action'.*?</section>", page, re.S)
        (item,) = [i for i in items if email in i]
        assert "HTTP 503 from Atlassian" in item
        assert f"value='{failed_key}'" in item
        response = await client.post("/act/retry", data=form)
        outcome = (await client.get(response.headers["location"])).text
        assert "re-planned from fresh reads: applied" in outcome, outcome
        assert console.world.account_status(email) == "inactive"
        after = (await client.get("/")).text
        assert email not in " ".join(
            re.findall(r"<section[^>]*data-kind='failed-action'.*?</section>", after, re.S)
        )  # settled by the later success
        again = await client.post("/act/retry", data=form)
        refused = (await client.get(again.headers["location"])).text
    assert "not a failure: nothing to retry" in refused
    notes = [r for r in console.store.journal() if r.kind == "retry"]
    assert notes[0].reason == "by console:ada (sub sub-ada): Atlassian is back"


def test_offboard_retry_is_the_same_act_on_the_command_line(
    failed_key: str, linked: World, runner: CliRunner
) -> None:
    email = f"{person(14)}@{DOMAIN}"
    code, output = linked.run(runner, "retry", failed_key, "--reason", "")
    assert code != ExitCode.OK
    code, output = linked.run(runner, "retry", "not-an-action", "--reason", "why")
    assert code == ExitCode.REFUSED, output
    assert "is not an action id" in output
    assert linked.account_status(email) == "active"
    code, output = linked.run(runner, "retry", failed_key, "--reason", "back", "--actor", "bo")
    assert code == ExitCode.OK, output
    assert "re-planned from fresh reads: applied" in output
    assert linked.account_status(email) == "inactive"
    _, journal = linked.run(runner, "journal", "list", "--format", "jsonl")
    assert "by bo: back" in journal


async def test_while_another_process_leads_the_retry_is_journaled_and_left_to_it(
    failed_key: str, console: Console
) -> None:
    email = f"{person(14)}@{DOMAIN}"
    now = datetime.now(UTC)
    assert console.store.acquire_lease("daemon", "daemon-1", timedelta(hours=1), now)
    try:
        async with console.client(ADA) as client:
            form = {"csrf_token": TOKEN, "action_key": failed_key, "reason": "try again"}
            response = await client.post("/act/retry", data=form)
            outcome = (await client.get(response.headers["location"])).text
    finally:
        console.store.release_lease("daemon", "daemon-1")
    assert "journaled; the leading daemon re-plans this person" in outcome, outcome
    assert console.world.account_status(email) == "active"  # nothing sent from here
    (note,) = [r for r in console.store.journal() if r.kind == "retry"]
    assert "by the leading daemon" in note.detail
