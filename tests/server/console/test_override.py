"""Approving a guard override for one plan from the console: the plan shown, planned again
from fresh reads, applied with exactly its blocking guards lifted (journaled, who and why)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from typer.testing import CliRunner

from offboard.cli.demo import DOMAIN, person
from offboard.cli.exit_codes import ExitCode
from tests.cli.test_run_commands import World
from tests.server.console.conftest import ADA, TOKEN, VIC, Console, console_of

LEAVERS = [person(n) for n in (20, 21, 22)]


@pytest.fixture
def blocked_world(linked: World, runner: CliRunner) -> World:
    text = linked.config.read_text(encoding="utf-8")
    linked.config.write_text(text + "\n[policy.thresholds]\nmax_deactivations = 1\n",
                             encoding="utf-8")  # fmt: skip
    for name in LEAVERS:
        linked.disable(name)
    code, output = linked.run(runner, "apply", "--yes")
    assert code == ExitCode.BLOCKED, output
    return linked


@pytest.fixture
async def blocked(blocked_world: World) -> AsyncIterator[Console]:
    async for made in console_of(blocked_world):
        yield made


def statuses(world: World) -> list[str]:
    return [world.account_status(f"{n}@{DOMAIN}") for n in LEAVERS]


def plan_item(page: str) -> str:
    found = re.search(r"<section[^>]*data-kind='blocked-plan'.*?</section>", page, re.S)
    assert found is not None, page
    return found.group(0)


async def test_an_operator_approves_the_override_for_the_plan_shown(blocked: Console) -> None:
    async with blocked.client(VIC) as viewer:
        assert "<form" not in plan_item((await viewer.get("/")).text)
    async with blocked.client(ADA) as client:
        item = plan_item((await client.get("/")).text)
        assert "max-deactivations" in item
        assert "data-testid='approve-override'" in item
        fingerprint = re.search(r"name='fingerprint' value='([^']+)'", item)
        assert fingerprint is not None
        form = {
            "csrf_token": TOKEN,
            "fingerprint": fingerprint.group(1),
            "guards": "max-deactivations",
            "reason": "HR: the three left on Friday",
        }
        stale = await client.post("/act/override", data={**form, "fingerprint": "0" * 64})
        refused = (await client.get(stale.headers["location"])).text
        assert "the plan changed since it was shown" in refused
        assert statuses(blocked.world) == ["active"] * 3
        response = await client.post("/act/override", data=form)
        outcome = (await client.get(response.headers["location"])).text
    assert "Override approved for plan" in outcome, outcome
    assert statuses(blocked.world) == ["inactive"] * 3
    notes = [r for r in blocked.store.journal() if r.kind == "override"]
    assert "by console:ada (sub sub-ada): HR: the three left on Friday" in notes[-1].detail


async def test_the_override_must_name_exactly_the_blocking_guards(blocked: Console) -> None:
    async with blocked.client(ADA) as client:
        item = plan_item((await client.get("/")).text)
        fingerprint = re.search(r"name='fingerprint' value='([^']+)'", item)
        assert fingerprint is not None
        for guards, said in (("source-count-drop", "approve exactly those"),
                             ("no-such-guard", "no such guard")):  # fmt: skip
            form = {"csrf_token": TOKEN, "fingerprint": fingerprint.group(1), "guards": guards,
                    "reason": "try"}  # fmt: skip
            response = await client.post("/act/override", data=form)
            assert said in (await client.get(response.headers["location"])).text
    assert statuses(blocked.world) == ["active"] * 3
