"""Issue 19 item 4: an unreachable Keycloak must not make planning wait ~3 s per linked user.

Two layers: the pipeline does not confirm anyone when a side was read incompletely (acting is
blocked anyway), and the adapter's circuit breaker stops calling Keycloak once it is known
down, so even a direct ``confirm`` of 205 people sends a handful of requests, not 800.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from offboard.adapters.circuit import CircuitBreaker, UnreachableError
from offboard.adapters.keycloak import KeycloakSource
from offboard.core.identities import IdentityId
from offboard.core.links import Link
from offboard.core.policy import Policy
from offboard.core.snapshots import SourceSnapshot
from offboard.service.reconciling import reconcile
from offboard.store import open_store
from tests.executor.fakes import T0, FakeClock, FakeDirectory, account
from tests.hostile.conftest import HostileRow
from tests.service.test_reconciling import FakeSource

LINKED = 205


class Unreachable(httpx.AsyncBaseTransport):
    """Every request fails to connect, as with Keycloak down; counts what was tried."""

    def __init__(self) -> None:
        self.tried = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.tried += 1
        raise httpx.ConnectError("connection refused", request=request)


@pytest.mark.slow
async def test_confirming_205_people_against_a_down_keycloak_sends_a_handful_of_requests(
    hostile_row: HostileRow,
) -> None:
    transport = Unreachable()
    source = KeycloakSource(
        "http://127.0.0.1:9", "r", "offboard", SecretStr("x"), transport=transport
    )
    ids = [IdentityId(f"{n:08d}-0000-4000-8000-000000000000") for n in range(LINKED)]
    empty = SourceSnapshot((), T0, complete=True)
    try:
        confirmed = await source.confirm(empty, ids)
    finally:
        await source.aclose()
    assert transport.tried <= 10  # was 4 attempts (and ~3 s) per person: 820 requests
    assert source.breaker.is_open
    assert not confirmed.deleted  # never taken as gone
    assert len(confirmed.problems) == LINKED  # each person left unconfirmed, and said so
    hostile_row(
        area="keycloak unreachable",
        inputs=LINKED,
        wrongful_actions=0,
        crashes=0,
        secrets_leaked=0,
        lost_actions=0,
        note=f"confirming {LINKED} people with Keycloak down: {transport.tried} requests "
        "(circuit breaker open), none taken as gone",
    )


async def test_an_incomplete_snapshot_is_not_confirmed_person_by_person(
    tmp_path: Path, hostile_row: HostileRow
) -> None:
    store = open_store(tmp_path / "s.db")
    try:
        store.upsert_links(
            Link(IdentityId(f"id-{n}"), account(n).id, f"user{n}@example.com", T0)
            for n in range(LINKED)
        )
        source = FakeSource({}, complete=False)  # Keycloak's walk failed: nobody read
        directory = FakeDirectory({f"acc-{n}": account(n) for n in range(LINKED)})
        report = await reconcile(
            source=source, directory=directory, store=store, policy=Policy(),
            clock=FakeClock(), apply=True,
        )  # fmt: skip
    finally:
        store.close()
    assert source.confirmed == []  # before: all 205 re-read one by one, ~3 s each
    assert report.plan is not None
    assert report.plan.is_blocked
    assert directory.sent == []
    hostile_row(
        area="keycloak unreachable",
        inputs=LINKED,
        wrongful_actions=0,
        crashes=0,
        secrets_leaked=0,
        lost_actions=0,
        note=f"plan with Keycloak's walk failed and {LINKED} linked: 0 re-reads, plan blocked",
    )


def test_the_breaker_lets_one_probe_through_after_the_cooldown() -> None:
    now = [0.0]
    breaker = CircuitBreaker("Keycloak", threshold=2, cooldown=10, clock=lambda: now[0])
    breaker.failed()
    assert breaker.allow()
    breaker.failed()
    assert not breaker.allow()
    now[0] = 10
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # only one at a time
    breaker.succeeded()
    assert breaker.allow()
    assert not breaker.is_open
    assert issubclass(UnreachableError, Exception)
