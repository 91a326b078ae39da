"""Brute-force status of a temporarily locked user, and what user reads show meanwhile."""

from __future__ import annotations

import secrets

from tests.contract.targets import Target


async def test_locked_user_status_and_reads(target: Target) -> None:
    username = f"locked-{secrets.token_hex(3)}"
    user_id = await target.create_user(username, password="the-right-password")
    await target.lock_out(username)
    token = await target.token()
    status = (await target.get(f"attack-detection/brute-force/users/{user_id}", token)).json()
    assert status["disabled"] is True
    assert status["numFailures"] >= 2
    assert status["lastIPFailure"] == "127.0.0.1"
    # 26.7.3 reports the stored flag while temporarily locked (26.3 reported false)
    assert (await target.get(f"users/{user_id}", token)).json()["enabled"] is True
    # the listing of disabled users filters on the stored flag: a lockout is not in it
    disabled = await target.get("users", token, enabled="false", username=username)
    assert disabled.json() == []
    events = (await target.get("events", token, user=user_id)).json()
    assert "USER_DISABLED_BY_TEMPORARY_LOCKOUT" in {e["type"] for e in events}
    assert {e.get("error") for e in events if e["type"] == "LOGIN_ERROR"} >= {
        "invalid_user_credentials"
    }
    await target.admin("DELETE", f"attack-detection/brute-force/users/{user_id}")
    released = (await target.get(f"attack-detection/brute-force/users/{user_id}", token)).json()
    assert released["disabled"] is False


async def test_status_of_a_user_without_failures(target: Target) -> None:
    token = await target.token()
    unknown = "00000000-0000-0000-0000-000000000000"
    status = (await target.get(f"attack-detection/brute-force/users/{unknown}", token)).json()
    assert status == {
        "failedLoginNotBefore": 0,
        "numFailures": 0,
        "numTemporaryLockouts": 0,
        "disabled": False,
        "numSecondaryAuthFailures": 0,
        "lastIPFailure": "n/a",
        "lastFailure": 0,
    }


async def test_failed_logins_all_look_alike(target: Target) -> None:
    wrong, disabled = f"wrong-{secrets.token_hex(3)}", f"off-{secrets.token_hex(3)}"
    await target.create_user(wrong, password="the-right-password")
    await target.set_enabled(await target.create_user(disabled, password="pw"), False)
    for username in (wrong, disabled, f"nobody-{secrets.token_hex(3)}"):
        response = await target.http.post(
            target.token_path,
            data={
                "grant_type": "password",
                "client_id": "offboard-login",
                "username": username,
                "password": "not-the-password",
            },
        )
        assert response.status_code == 400
        assert response.json() == {
            "error": "invalid_grant",
            "error_description": "Invalid user credentials",
        }
