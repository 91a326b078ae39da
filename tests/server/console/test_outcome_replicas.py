"""Two replicas behind one Service: the browser's GET of an act's outcome may reach the other
replica. It must still show the outcome (not "no longer kept" after an act that happened),
and only to the session that acted; a changed outcome is refused."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator

import pytest

from tests.cli.test_run_commands import World
from tests.server.console.conftest import ADA, TOKEN, VIC, Console, console_of


@pytest.fixture
async def other(linked: World) -> AsyncIterator[Console]:
    """A second replica: its own process state, the same store and session secret."""
    async for made in console_of(linked):
        yield made


async def test_the_outcome_shows_on_the_other_replica(console: Console, other: Console) -> None:
    form = {"csrf_token": TOKEN, "action_key": "not-an-action", "reason": "checking"}
    async with console.client(ADA) as here:
        response = await here.post("/act/retry", data=form)
    location = response.headers["location"]
    async with other.client(ADA) as there:
        shown = await there.get(location)
        assert shown.status_code == 200, shown.text
        assert "is not an action id" in shown.text
        assert "By console:ada (sub sub-ada)." in shown.text
        payload, _ = location.split("?o=")[1].split(".")
        words = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        words["ok"], words["message"] = True, "Done: everything is fine."
        lie = base64.urlsafe_b64encode(json.dumps(words).encode()).decode().rstrip("=")
        forged = location.replace(payload, lie)
        assert (await there.get(forged)).status_code == 404  # the page never says a lie
        tampered = location[:-3] + ("AAA" if not location.endswith("AAA") else "BBB")
        assert (await there.get(tampered)).status_code == 404
    async with other.client(VIC) as someone_else:
        assert (await someone_else.get(location)).status_code == 404
