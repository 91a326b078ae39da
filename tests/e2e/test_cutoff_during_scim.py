"""An emergency cut-off handed to the daemon while the SCIM part of a full pass runs.

A first SCIM sync of many joiners runs for minutes at Atlassian's rate limit. The cut-off
used to wait for all of it (the console gives up after 20 s): here it runs between two SCIM
writes, and the pass leaves the person it cut off alone for the rest of the pass (no SCIM
create for them afterwards, made from reads older than the act).

The world: people on the Keycloak emulator, each with a managed Atlassian account; the
daemon's first full pass links everyone, then (provisioning on) creates a SCIM user for each
(a linked account with no SCIM record is that person's own: ``Directory.vouched``) at a
slow emulated rate limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from offboard.core.journal import Phase, Status
from offboard.core.operator_requests import RequestKind, RequestState
from offboard.core.policy import ActionKind
from offboard.store import SqlStore
from offboard.store.operator_requests import StoredRequests
from offboard_emulators.common.server import serve_in_thread
from offboard_emulators.keycloak.app import create_app
from offboard_emulators.keycloak.emulator import EmulatorState
from tests.e2e.harness import Tenant, daemon_settings, eventually, running_daemon
from tests.e2e.provisioning_rig import (
    SCIM_DIRECTORY,
    SCIM_KEY,
    scim_tenant,
    scim_user_by_email,
)
from tests.e2e.waves import EmulatedPeople

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REALM_FILE = Path(__file__).parents[1] / "keycloak" / "realm-offboard-test.json"
SECRET = "emulated-client-secret"
JOINERS = 60
RATE = 4.0
"""Requests per second per key: the SCIM part alone takes about fifteen seconds."""
CREATE = ActionKind.SCIM_CREATE_USER.value


@pytest.fixture
def keycloak() -> Iterator[tuple[str, EmulatorState]]:
    state = EmulatorState.from_seed_file(REALM_FILE, {"OFFBOARD_TEST_CLIENT_SECRET": SECRET})
    with serve_in_thread(create_app(state)) as url:
        yield url, state


@pytest.fixture
def tenant() -> Iterator[Tenant]:
    with scim_tenant(rate_limit=RATE) as running:
        yield running


def _journal(store: SqlStore, phase: Phase, kind: str) -> list[str]:
    return [r.identity_id or "" for r in store.journal() if r.phase is phase and r.kind == kind]


async def test_a_cutoff_runs_between_scim_writes_and_the_pass_leaves_that_person_alone(
    keycloak: tuple[str, EmulatorState], tenant: Tenant, tmp_path: Path
) -> None:
    url, state = keycloak
    people = EmulatedPeople(state, tenant)
    people.add(JOINERS)
    settings = daemon_settings(
        keycloak_url=url, realm="offboard-test", client_id="offboard", client_secret=SECRET,
        tenant=tenant, store=tmp_path / "state.db",
        extra={
            "atlassian": {"scim_directory_id": SCIM_DIRECTORY, "scim_api_key": SCIM_KEY,
                          "rate_limit_per_second": RATE},
            "provisioning": {"enabled": True},
        },
    )  # fmt: skip
    # The planner creates joiners in order of their Keycloak id: cut off the last one.
    chosen = max(people.ids)
    email = state.realm.users[chosen].email or ""
    async with running_daemon(settings) as daemon:
        store = daemon.assembly.daemon.passes.store
        assert isinstance(store, SqlStore)
        await eventually(lambda: bool(_journal(store, Phase.INTENT, CREATE)), within=120)
        requests = StoredRequests(store.engine)
        request = requests.queue(
            RequestKind.CUTOFF, email, actor="alice", reason="emergency, ticket 77",
            overrides=(), at=datetime.now(UTC),
        )  # fmt: skip

        def finished() -> bool:
            found = requests.get(request.id)
            return found is not None and found.state.finished

        await eventually(finished, within=120, step=0.1)
        created_by_then = len(_journal(store, Phase.INTENT, CREATE))
        done = requests.get(request.id)
        assert done is not None
        assert done.state is RequestState.DONE, done
        # Done between two SCIM writes: most of the sync was still to come.
        assert created_by_then < JOINERS // 2, created_by_then
        assert "read back" in done.outcome
        assert tenant.status(people.accounts[chosen]) == "inactive"

        def scim_part_over() -> bool:
            outcomes = _journal(store, Phase.OUTCOME, CREATE)
            return all(i in outcomes for i in people.ids)

        await eventually(scim_part_over, within=300, step=0.2)
        skipped = [
            r
            for r in store.journal(identity_id=chosen)
            if r.phase is Phase.OUTCOME and r.status is Status.SKIPPED and r.kind == CREATE
        ]
    assert len(skipped) == 1
    assert f"operator request #{request.id}" in skipped[0].detail
    assert scim_user_by_email(tenant, email) is None  # no SCIM create from stale reads
    assert tenant.status(people.accounts[chosen]) == "inactive"
    others = [i for i in people.ids if i != chosen]
    missing = [i for i in others if scim_user_by_email(tenant, people_email(state, i)) is None]
    assert missing == []  # the others' sync went on


def people_email(state: EmulatorState, user_id: str) -> str:
    return state.realm.users[user_id].email or ""
