"""One action that fails at every pass must not push the other failures off the page."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from offboard.cli.demo import DOMAIN, person
from offboard.core.journal import JournalRecord, Phase, Status
from offboard.store import open_store
from tests.server.console.conftest import ADA, Console
from tests.server.console.test_retry import failed_deactivation


def fail_again(console: Console, n: int, times: int) -> None:
    """Person n's deactivation fails at ``times`` more passes (a permanent 4xx, say)."""
    user_id = console.world.keycloak_user(person(n)).id  # type: ignore[attr-defined]
    store = open_store(console.world.store)
    try:
        (link,) = store.links(identity_ids=[user_id])
        for _ in range(times):
            run_id = store.start_run("daemon", datetime.now(UTC))
            store.append(JournalRecord(
                at=datetime.now(UTC), run_id=run_id,
                action_key=f"deactivate:{user_id}:{link.account_id}", phase=Phase.OUTCOME,
                status=Status.FAILED, kind="deactivate", identity_id=user_id,
                account_id=link.account_id, email=f"{person(n)}@{DOMAIN}",
                rule="identity-disabled", detail="HTTP 403: the account is not manageable",
            ))  # fmt: skip
            store.finish_run(run_id, datetime.now(UTC), "incomplete", {})
    finally:
        store.close()


async def test_an_older_failure_stays_listed_under_a_flood_of_one_action(
    console: Console,
) -> None:
    failed_deactivation(console.world, 15)  # the older failure
    failed_deactivation(console.world, 14)
    fail_again(console, 14, 120)  # then 14 fails at every pass for an hour
    async with console.client(ADA) as client:
        page = (await client.get("/")).text
    items = re.findall(r"<section[^>]*data-kind='failed-action'.*?</section>", page, re.S)
    assert len(items) == 2, [re.findall(r"person-0000\d\d", i) for i in items]
    assert f"{person(15)}@{DOMAIN}" in " ".join(items)
