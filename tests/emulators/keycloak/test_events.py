"""Event listings the contract suite cannot cheaply reach on the real server: the default
page size of 100 and events that share a millisecond."""

from __future__ import annotations

import httpx

from offboard_emulators.keycloak.emulator import EmulatorState
from offboard_emulators.keycloak.model import AuthDetails
from tests.emulators.keycloak.conftest import ADMIN


async def test_admin_events_default_to_100_newest_first(
    http: httpx.AsyncClient, state: EmulatorState, bearer: dict[str, str]
) -> None:
    auth = AuthDetails(state.realm.settings.id, "client", "admin")
    for n in range(130):
        state.realm.record_admin_event(auth, "UPDATE", f"users/u{n:03d}", {"enabled": False})
    events = (await http.get(f"{ADMIN}/admin-events", headers=bearer)).json()
    assert len(events) == 100
    assert events[0]["resourcePath"] == "users/u129"
    rest = (await http.get(f"{ADMIN}/admin-events", params={"first": 100}, headers=bearer)).json()
    assert len(rest) == 30


async def test_admin_events_off_records_nothing(
    http: httpx.AsyncClient, state: EmulatorState, bearer: dict[str, str]
) -> None:
    state.realm.settings.admin_events_enabled = False
    auth = AuthDetails(state.realm.settings.id, "client", "admin")
    state.realm.record_admin_event(auth, "DELETE", "users/x")
    assert (await http.get(f"{ADMIN}/admin-events", headers=bearer)).json() == []


async def test_details_off_drops_the_representation(
    http: httpx.AsyncClient, state: EmulatorState, bearer: dict[str, str]
) -> None:
    state.realm.settings.admin_events_details_enabled = False
    auth = AuthDetails(state.realm.settings.id, "client", "admin")
    state.realm.record_admin_event(auth, "UPDATE", "users/x", {"enabled": False})
    event = (await http.get(f"{ADMIN}/admin-events", headers=bearer)).json()[0]
    assert "representation" not in event
