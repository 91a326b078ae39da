"""The token endpoint and bearer tokens: Basic and form client authentication, lifetimes,
401 on bad, missing and expired tokens."""

from __future__ import annotations

import asyncio

from tests.contract.targets import Target

UNAUTHORIZED = {"error": "HTTP 401 Unauthorized"}


async def test_client_credentials_with_basic_auth_or_form(target: Target) -> None:
    basic = await target.http.post(
        target.token_path,
        data={"grant_type": "client_credentials"},
        auth=("offboard", target.client_secret),
    )
    form = await target.http.post(
        target.token_path,
        data={
            "grant_type": "client_credentials",
            "client_id": "offboard",
            "client_secret": target.client_secret,
        },
    )
    for response in (basic, form):
        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "Bearer"
        assert 298 <= body["expires_in"] <= 300  # the realm's accessTokenLifespan
        assert body["refresh_expires_in"] == 0
        assert "refresh_token" not in body


async def test_wrong_secret_is_unauthorized_client(target: Target) -> None:
    response = await target.http.post(
        target.token_path, data={"grant_type": "client_credentials"}, auth=("offboard", "wrong")
    )
    assert response.status_code == 401
    assert response.json() == {
        "error": "unauthorized_client",
        "error_description": "Invalid client or Invalid client credentials",
    }


async def test_bad_or_missing_token_is_401(target: Target) -> None:
    bad = await target.get("users", "not-a-token")
    assert (bad.status_code, bad.json()) == (401, UNAUTHORIZED)
    missing = await target.http.get(f"{target.admin_path}/users")
    assert (missing.status_code, missing.json()) == (401, UNAUTHORIZED)


async def test_expired_token_is_401(target: Target) -> None:
    token = await target.token("offboard-short-token")  # lives 3 s
    assert (await target.get("users/count", token)).status_code == 200
    if target.emulator is not None:
        target.emulator.realm.clock_offset_ms += 4_000
    else:
        await asyncio.sleep(4.5)
    expired = await target.get("users/count", token)
    assert (expired.status_code, expired.json()) == (401, UNAUTHORIZED)


async def test_public_client_gets_no_service_account_token(target: Target) -> None:
    response = await target.http.post(
        target.token_path, data={"grant_type": "client_credentials", "client_id": "offboard-login"}
    )
    assert response.status_code == 401
    assert response.json() == {
        "error": "unauthorized_client",
        "error_description": "Public client not allowed to retrieve service account",
    }


async def test_realm_without_view_realm_is_a_slim_representation(target: Target) -> None:
    token = await target.token("offboard-limited")
    response = await target.http.get(
        target.admin_path, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    assert response.json() == {
        "realm": target.realm,
        "bruteForceProtected": True,
        "supportedLocales": [],
        "organizationsEnabled": False,
    }
