"""Cut someone off from the console, and lift it: the CLI's service functions, journaled with
the operator; while another replica leads, the act is handed to it through the store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from offboard.cli.demo import DOMAIN, person
from offboard.core.operator_requests import RequestKind, RequestState
from offboard.server.console.acts import OVERRIDE_FIELD
from offboard.service.daemon_passes import ReconcilingPasses
from offboard.service.leasing import LEASE_NAME
from offboard.store.operator_requests import StoredRequests
from tests.cli.test_run_commands import World
from tests.server.console.conftest import ADA, VIC, Console, console_of
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
    async with console.client(ADA) as client:
        front = (await client.get("/")).text
        history = (await client.get("/history", params={"q": email})).text
    # The front page's recent actions are this process's passes: it says where acts are.
    assert "data-testid='actions-scope'" in front
    assert "every act, by anyone, is in <a href='/history'>History</a>" in front
    assert "left today" in history


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
    assert queued.actor == "console:ada (sub sub-ada)"
    assert console.world.account_status(email) == "active"  # the leader acts, not this one


@pytest.fixture
async def console_of_one(budget_of_one: World) -> AsyncIterator[Console]:
    async for made in console_of(budget_of_one):
        yield made


async def test_a_guard_that_blocks_a_cutoff_can_be_lifted_for_that_act(
    console_of_one: Console,
) -> None:
    """The CLI's ``--override-guard`` from the console: a budget of one deactivation an hour
    blocks the second cut-off until the operator names the guard, journaled with them."""
    console = console_of_one
    first, second = (f"{person(n)}@{DOMAIN}" for n in (16, 17))
    async with console.client(ADA) as client:
        detail = (await client.get("/person", params={"id": second})).text
        assert f"name='{OVERRIDE_FIELD}'" in detail
        done = await acted(client, "/act/cutoff", person=first, reason="left", confirm="yes")
        assert "data-ok='true'" in done, done
        blocked = await acted(client, "/act/cutoff", person=second, reason="left",
                              confirm="yes")  # fmt: skip
        assert "data-ok='false'" in blocked, blocked
        assert "deprovisioning-budget" in blocked
        assert "Blocked by a guard?" in blocked
        assert console.world.account_status(second) == "active"
        unknown = await acted(client, "/act/cutoff", person=second, reason="left",
                              confirm="yes", override_guards="hourly-budget")  # fmt: skip
        assert "no such guard: hourly-budget" in unknown
        lifted = await acted(client, "/act/cutoff", person=second, reason="left, checked",
                             confirm="yes", override_guards="deprovisioning-budget")  # fmt: skip
    assert "data-ok='true'" in lifted, lifted
    assert console.world.account_status(second) == "inactive"
    overridden = [r.detail for r in console.store.journal() if r.rule == "deprovisioning"]
    assert any("by console:ada (sub sub-ada)" in d and "--override-guard deprovisioning-budget" in d
               for d in overridden), overridden  # fmt: skip


async def test_the_daemon_s_full_pass_makes_room_in_the_gate_the_acts_take(
    console: Console,
) -> None:
    """One gate for the daemon, its full pass and its operator acts: the pass yields in the
    same gate a cut-off takes (``tests/executor/test_interlude.py`` shows the order)."""
    daemon = console.assembly.daemon
    passes = daemon.passes
    assert isinstance(passes, ReconcilingPasses)
    assert passes.gate is daemon.gate
    assert daemon.handed is not None
