"""A retry whose fresh plan needs nothing any more settles the failure: the console stops
showing it, says what happened instead of "applied", and a second retry is refused."""

from __future__ import annotations

import re

from offboard.cli.demo import DOMAIN, person
from offboard.core.journal import Phase, Status
from tests.server.console.conftest import ADA, TOKEN, Console
from tests.server.console.test_retry import failed_deactivation


def failed_items(page: str) -> str:
    return " ".join(re.findall(r"<section[^>]*data-kind='failed-action'.*?</section>", page, re.S))


async def test_a_retry_with_nothing_left_to_do_settles_the_failure(console: Console) -> None:
    key = failed_deactivation(console.world, 14)
    console.world.keycloak_user(person(14)).enabled = True  # type: ignore[attr-defined]
    console.world.served.keycloak.realm._listing = None  # back in Keycloak: a false alarm
    email = f"{person(14)}@{DOMAIN}"
    form = {"csrf_token": TOKEN, "action_key": key, "reason": "false alarm"}
    async with console.client(ADA) as client:
        assert email in failed_items((await client.get("/")).text)
        response = await client.post("/act/retry", data=form)
        outcome = (await client.get(response.headers["location"])).text
        assert "nothing to do now" in outcome, outcome
        assert "the failure is settled" in outcome
        assert ": applied" not in outcome
        assert email not in failed_items((await client.get("/")).text)
        again = await client.post("/act/retry", data=form)
        refused = (await client.get(again.headers["location"])).text
    assert "is skipped, not a failure: nothing to retry" in refused
    assert console.world.account_status(email) == "active"
    (settled,) = [r for r in console.store.journal() if r.action_key == key
                  and r.phase is Phase.OUTCOME and r.status is Status.SKIPPED]  # fmt: skip
    assert settled.reason == "by console:ada (sub sub-ada): false alarm"


async def test_a_retry_that_acts_still_says_applied(console: Console) -> None:
    key = failed_deactivation(console.world, 15)
    form = {"csrf_token": TOKEN, "action_key": key, "reason": "Atlassian is back"}
    async with console.client(ADA) as client:
        response = await client.post("/act/retry", data=form)
        outcome = (await client.get(response.headers["location"])).text
    assert "re-planned from fresh reads: applied" in outcome
    assert not [r for r in console.store.journal() if r.status is Status.SKIPPED]
