"""Cut someone off from the console, and lift it: the CLI's service functions, journaled with
the operator; while another replica leads, the act is handed to it through the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from offboard.cli.demo import DOMAIN, person
from offboard.core.operator_requests import RequestKind, RequestState
from offboard.service.leasing import LEASE_NAME
from offboard.store.operator_requests import StoredRequests
from tests.server.console.conftest import ADA, VIC, Console
from tests.server.console.test_acts import acted


async def test_an_operator_cuts_someone_off_and_lifts_it(console: Console) -> None:
    email = f"{person(14)}@{DOMAIN}"
    async with console.client(ADA) as client:
        detail = (await client.get("/person", params={"id": email})).text
        assert "data-testid='cutoff'" in detail
        assert "data-testid='cutoff-lift'" not in detail  # nothing to lift yet
        unconfirmed = await acted(client, "/act/cutoff", person=email, reason="left today")
        assert "data-ok='false'" in unconfirmed
        assert console.world.account_status(email) == "active"
        outcome = await acted(client, "/act/cutoff", person=email, reason="left today",
                              confirm="yes")  # fmt: skip
        assert "data-ok='true'" in outcome, outcome
        assert "done" in outcome
        assert console.world.account_status(email) == "inactive"
        detail = (await client.get("/person", params={"id": email})).text
        assert "data-testid='cutoff-lift'" in detail
        lifted = await acted(client, "/act/cutoff-lift", person=email, reason="mistake")
    assert "data-ok='true'" in lifted, lifted
    assert console.world.account_status(email) == "active"
    reasons = [r.reason for r in console.store.journal() if r.rule.startswith("manual-cutoff")]
    assert any("console:ada" in r and "left today" in r for r in reasons)


async def test_a_protected_person_is_refused_and_a_viewer_cannot_act(console: Console) -> None:
    email = f"it-admin@{DOMAIN}"
    async with console.client(ADA) as client:
        outcome = await acted(client, "/act/cutoff", person=email, reason="x", confirm="yes")
    assert "data-ok='false'" in outcome
    assert "protected-org-admin" in outcome, outcome
    async with console.client(VIC) as client:
        detail = (await client.get("/person", params={"id": f"{person(14)}@{DOMAIN}"})).text
        form = {"csrf_token": "test-csrf-token", "person": email, "reason": "r", "confirm": "yes"}
        refused = await client.post("/act/cutoff", data=form)
    assert "data-testid='cutoff'" not in detail
    assert refused.status_code == 403


async def test_while_another_replica_leads_the_cutoff_is_handed_to_it(console: Console) -> None:
    email = f"{person(15)}@{DOMAIN}"
    now = datetime.now(UTC)
    assert console.store.acquire_lease(LEASE_NAME, "replica-b:1", timedelta(minutes=5), now)
    async with console.client(ADA) as client:
        outcome = await acted(client, "/act/cutoff", person=email, reason="left",
                              confirm="yes")  # fmt: skip
    assert "data-ok='true'" in outcome, outcome
    assert "handed to the leading daemon" in outcome
    (queued,) = StoredRequests(console.store.engine).recent(5)
    assert (queued.kind, queued.person, queued.state) == (
        RequestKind.CUTOFF, email, RequestState.QUEUED,
    )  # fmt: skip
    assert queued.actor == "console:ada"
    assert console.world.account_status(email) == "active"  # the leader acts, not this one
