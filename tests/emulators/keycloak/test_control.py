"""The control surface: reset, seeding (realm JSON and the bulk builder), recorded requests,
the clock, and the 26.3-era lockout switch."""

from __future__ import annotations

import time

import httpx

from offboard_emulators.keycloak.emulator import EmulatorState
from offboard_emulators.keycloak.seed import add_bulk_users
from offboard_emulators.keycloak.state import Realm
from tests.emulators.keycloak.conftest import ADMIN


async def test_bulk_seed_and_count(
    http: httpx.AsyncClient, state: EmulatorState, bearer: dict[str, str]
) -> None:
    before = (await http.get(f"{ADMIN}/users/count", headers=bearer)).json()
    seeded = await http.post(
        "/_emulator/seed", json={"bulk": {"count": 250, "prefix": "bulk", "disabled_every": 10}}
    )
    assert seeded.status_code == 200
    assert (await http.get(f"{ADMIN}/users/count", headers=bearer)).json() == before + 250
    disabled = await http.get(
        f"{ADMIN}/users/count", params={"enabled": "false", "search": "bulk"}, headers=bearer
    )
    assert disabled.json() == 25


async def test_reset_returns_to_the_seed(http: httpx.AsyncClient, state: EmulatorState) -> None:
    add_bulk_users(state.realm, 5, prefix="extra")
    assert state.realm.user_by_username("extra-000001") is not None
    assert (await http.post("/_emulator/reset")).status_code == 204
    assert state.realm.user_by_username("extra-000001") is None
    assert state.realm.user_by_username("alice") is not None


async def test_requests_are_recorded_without_secrets(
    http: httpx.AsyncClient, bearer: dict[str, str]
) -> None:
    await http.get(f"{ADMIN}/users", params={"max": 5}, headers=bearer)
    recorded = (await http.get("/_emulator/requests")).json()["requests"]
    assert [r["path"] for r in recorded][-1] == f"{ADMIN}/users"
    assert recorded[-1]["query"] == "max=5"
    assert recorded[-1]["key_id"] == "bearer"
    assert bearer["Authorization"].split()[1] not in str(recorded)


async def test_clock_expires_tokens(http: httpx.AsyncClient, bearer: dict[str, str]) -> None:
    assert (await http.get(f"{ADMIN}/users/count", headers=bearer)).status_code == 200
    await http.post("/_emulator/clock", json={"advance_seconds": 301})
    assert (await http.get(f"{ADMIN}/users/count", headers=bearer)).status_code == 401


async def test_lockout_can_show_disabled_like_26_3(
    http: httpx.AsyncClient, state: EmulatorState, bearer: dict[str, str]
) -> None:
    alice = state.realm.user_by_username("alice")
    assert alice is not None
    for _ in range(3):
        await http.post(
            "/realms/offboard-test/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": "offboard-login",
                "username": "alice",
                "password": "wrong",
            },
        )
    assert (await http.get(f"{ADMIN}/users/{alice.id}", headers=bearer)).json()["enabled"]
    await http.put("/_emulator/settings", json={"lockout_reports_disabled": True})
    shown = (await http.get(f"{ADMIN}/users/{alice.id}", headers=bearer)).json()
    assert shown["enabled"] is False


async def test_bad_control_input_is_400(http: httpx.AsyncClient) -> None:
    response = await http.put("/_emulator/keycloak-faults", json={"nonsense": 1})
    assert response.status_code == 400
    assert "nonsense" in response.json()["error"]


def test_the_builder_makes_100k_users_quickly() -> None:
    realm = Realm()
    started = time.perf_counter()
    add_bulk_users(realm, 100_000)
    elapsed = time.perf_counter() - started
    assert len(realm.users) == 100_000
    print(f"100k users built in {elapsed:.2f} s")  # a figure, not an assertion
