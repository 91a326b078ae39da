"""Keycloak-specific faults: spurious enabled:false, a user deleted while paging, cut
representations, slow pages; and the generic 5xx faults with Keycloak's error body."""

from __future__ import annotations

import json

import httpx

from offboard_emulators.keycloak.emulator import EmulatorState
from offboard_emulators.keycloak.model import AuthDetails
from offboard_emulators.keycloak.state import KeycloakFaults
from tests.emulators.keycloak.conftest import ADMIN


async def test_spurious_disabled_reads_hit_about_the_configured_share(
    http: httpx.AsyncClient, state: EmulatorState, bearer: dict[str, str]
) -> None:
    state.realm.configure_faults(KeycloakFaults(spurious_disabled_rate=0.25, seed=7))
    alice = state.realm.user_by_username("alice")
    assert alice is not None
    reads = [
        (await http.get(f"{ADMIN}/users/{alice.id}", headers=bearer)).json()["enabled"]
        for _ in range(200)
    ]
    assert 20 < reads.count(False) < 80
    assert alice.enabled is True  # only the reads lie


async def test_deleting_during_paging_skips_a_user(
    http: httpx.AsyncClient, state: EmulatorState, bearer: dict[str, str]
) -> None:
    listed_before = (await http.get(f"{ADMIN}/users", headers=bearer)).json()
    state.realm.configure_faults(KeycloakFaults(delete_during_paging=1))
    first = (await http.get(f"{ADMIN}/users", params={"max": 2}, headers=bearer)).json()
    second = await http.get(f"{ADMIN}/users", params={"first": 2, "max": 10}, headers=bearer)
    seen = [u["username"] for u in first + second.json()]
    every = [u["username"] for u in listed_before]
    assert seen == every[:2] + every[3:]  # every[2] shifted onto the page already read
    assert state.realm.user_by_username(every[0]) is None
    events = (await http.get(f"{ADMIN}/admin-events", headers=bearer)).json()
    assert events[0]["operationType"] == "DELETE"


async def test_representations_can_be_cut(
    http: httpx.AsyncClient, state: EmulatorState, bearer: dict[str, str]
) -> None:
    state.realm.configure_faults(KeycloakFaults(representation_max_length=20))
    bob = state.realm.user_by_username("bob")
    assert bob is not None
    auth = AuthDetails(state.realm.settings.id, "c", "u")
    state.realm.record_admin_event(
        auth, "UPDATE", f"users/{bob.id}", {"enabled": False, "x": "y" * 50}
    )
    event = (await http.get(f"{ADMIN}/admin-events", headers=bearer)).json()[0]
    assert len(event["representation"]) == 20
    try:
        json.loads(event["representation"])
    except json.JSONDecodeError:
        pass
    else:
        raise AssertionError("a cut representation should not parse")


async def test_injected_5xx_uses_keycloak_error_body(
    http: httpx.AsyncClient, bearer: dict[str, str]
) -> None:
    put = await http.put(
        "/_emulator/faults",
        json={"fail_nth": [{"path_contains": "/users", "nth": 2, "status": 503}]},
    )
    assert put.status_code == 200
    first = await http.get(f"{ADMIN}/users", headers=bearer)
    second = await http.get(f"{ADMIN}/users", headers=bearer)
    third = await http.get(f"{ADMIN}/users", headers=bearer)
    assert [first.status_code, second.status_code, third.status_code] == [200, 503, 200]
    assert second.json()["error"] == "unknown_error"


async def test_no_rate_limit_headers(http: httpx.AsyncClient, bearer: dict[str, str]) -> None:
    response = await http.get(f"{ADMIN}/users", headers=bearer)
    assert not any(name.lower().startswith("x-ratelimit") for name in response.headers)
