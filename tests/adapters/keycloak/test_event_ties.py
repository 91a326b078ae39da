"""A millisecond's events cut by a page boundary are all read, whatever order they come in.

Keycloak orders events by ``time`` alone (``JpaAdminEventQuery``, no second key), so the
events of one millisecond can come in a new order at each query. In a poll that pages, such
a group cut by a page boundary can show one event on both pages and another on neither. In
a long catch-up, the cursor then moves past the overlap and that event is never read again:
a leaver known only at the next full reconciliation. The emulator's ``unstable_ties`` fault
orders ties anew at each query, as such a store may.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from offboard.adapters.keycloak.events import EventPoller
from offboard_emulators.keycloak.model import AdminEvent, AuthDetails, UserEvent
from offboard_emulators.keycloak.state import KeycloakFaults
from tests.adapters.keycloak.test_emulator import source_for
from tests.contract.targets import Target, in_process_emulator

T = int(datetime(2026, 12, 1, 9, 0, tzinfo=UTC).timestamp() * 1000)
PAGE = 5
TIED = 12  # one millisecond, across two page boundaries at PAGE 5
LATER = T + 5 * 60_000  # past the two-minute overlap: the first poll's events are not re-read


@pytest.fixture
async def emulator() -> AsyncIterator[Target]:
    async with in_process_emulator() as target:
        yield target


def _admin(n: int, time: int) -> AdminEvent:
    auth = AuthDetails("r", "admin-cli", "admin")
    return AdminEvent(f"a-{n}", time, "r", auth, "UPDATE", "USER", f"users/u-{n}")


def _user(n: int, time: int) -> UserEvent:
    return UserEvent(f"e-{n}", time, "DELETE_ACCOUNT", "r", user_id=f"v-{n}")


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_every_event_of_a_millisecond_cut_by_a_page_is_read(
    emulator: Target, seed: int
) -> None:
    assert emulator.emulator is not None
    realm = emulator.emulator.realm
    realm.configure_faults(KeycloakFaults(unstable_ties=True, seed=seed))
    before = [(n, T - 1000 + n) for n in range(3)]
    tied = [(n, T) for n in range(3, 3 + TIED)]
    last = [(99, LATER)]
    realm.admin_events = [_admin(n, time) for n, time in [*before, *tied, *last]]
    realm.user_events = [_user(n, time) for n, time in [*before, *tied, *last]]

    async with source_for(emulator) as source:
        start = datetime.fromtimestamp((T - 60_000) / 1000, tz=UTC)
        poller = EventPoller(source.reader, now=lambda: start, page_size=PAGE)
        first, cursor = await poller.events_since(None)
        second, _ = await poller.events_since(cursor)

    read = [event.identity_id for event in [*first, *second]]
    wanted = {f"u-{n}" for n, _ in [*before, *tied, *last]}
    wanted |= {f"v-{n}" for n, _ in [*before, *tied, *last]}
    assert set(read) == wanted
    assert len(read) == len(wanted)  # and none of them twice


async def test_only_a_millisecond_cut_by_a_page_is_read_again(emulator: Target) -> None:
    assert emulator.emulator is not None
    realm = emulator.emulator.realm
    # Pages of 5: the boundary after a-4 falls between two milliseconds, the one after a-9
    # inside the millisecond of a-9 and a-10.
    times = [T + n for n in range(10)] + [T + 9, T + 11]
    realm.admin_events = [_admin(n, time) for n, time in enumerate(times)]
    async with source_for(emulator) as source:
        start = datetime.fromtimestamp(T / 1000, tz=UTC) - timedelta(minutes=1)
        poller = EventPoller(source.reader, now=lambda: start, page_size=PAGE)
        events, _ = await poller.events_since(None)
    assert sorted(e.identity_id for e in events) == sorted(f"u-{n}" for n in range(12))
    again = [
        entry.query
        for entry in emulator.emulator.requests.entries()
        if entry.path.endswith("/admin-events") and "dateTo" in entry.query
    ]
    assert len(again) == 1
    assert f"dateFrom={T + 9}&dateTo={T + 9}" in again[0]


async def test_the_realm_id_is_learnt_from_the_events_read(emulator: Target) -> None:
    # Webhooks about another realm are told apart by the realm's id, which the realm read
    # gives only to view-realm: the events the poller reads carry it too.
    assert emulator.emulator is not None
    realm = emulator.emulator.realm
    realm.admin_events = [
        AdminEvent(
            "a-1",
            realm.now_ms(),
            realm.settings.id,
            AuthDetails("r", "c", "u"),
            "UPDATE",
            "USER",
            "users/u-1",
        )
    ]
    async with source_for(emulator) as source:
        assert source.realm_id is None
        await source.events_since(None)
        assert source.realm_id == realm.settings.id
