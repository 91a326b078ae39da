"""Admin and user events: what a disable and a delete record, filters, order and paging."""

from __future__ import annotations

import json
import secrets
import time

from tests.contract.targets import Target


async def disable_then_delete(target: Target) -> str:
    """Create, disable and delete a user; returns its id."""
    user_id = await target.create_user(f"evt-{secrets.token_hex(3)}")
    await target.set_enabled(user_id, False)
    await target.admin("DELETE", f"users/{user_id}")
    return user_id


async def test_disable_and_delete_are_recorded_newest_first(target: Target) -> None:
    user_id = await disable_then_delete(target)
    token = await target.token()
    events = (await target.get("admin-events", token, resourcePath=f"users/{user_id}")).json()
    assert [e["operationType"] for e in events] == ["DELETE", "UPDATE", "CREATE"]
    assert {e["resourceType"] for e in events} == {"USER"}
    times = [e["time"] for e in events]
    assert times == sorted(times, reverse=True)
    update = json.loads(events[1]["representation"])
    assert update["enabled"] is False
    deleted = json.loads(events[0]["representation"])
    assert deleted["id"] == user_id
    assert set(events[0]) >= {"id", "time", "realmId", "authDetails", "resourcePath"}
    assert set(events[0]["authDetails"]) == {"realmId", "clientId", "userId", "ipAddress"}


async def test_direction_asc_and_paging(target: Target) -> None:
    user_id = await target.create_user(f"flip-{secrets.token_hex(3)}")
    for enabled in (False, True, False, True):
        await target.set_enabled(user_id, enabled)
    await target.admin("DELETE", f"users/{user_id}")
    token = await target.token()
    # a wildcard on this user's id keeps other sessions' events on a shared server out
    query = {"resourcePath": f"users/{user_id[:13]}*", "resourceTypes": "USER"}
    every = (await target.get("admin-events", token, direction="asc", **query)).json()
    operations = [e["operationType"] for e in every]
    assert operations == ["CREATE", "UPDATE", "UPDATE", "UPDATE", "UPDATE", "DELETE"]
    assert [e["time"] for e in every] == sorted(e["time"] for e in every)
    pages = [
        (await target.get("admin-events", token, direction="asc", first=n, max=2, **query)).json()
        for n in (0, 2, 4, 6)
    ]
    assert [len(p) for p in pages] == [2, 2, 2, 0]
    assert [e["id"] for p in pages for e in p] == [e["id"] for e in every]
    newest = (await target.get("admin-events", token, max=2, **query)).json()
    assert [e["id"] for e in newest] == [every[-1]["id"], every[-2]["id"]]
    flags = [json.loads(e["representation"])["enabled"] for e in every[1:5]]
    assert flags == [False, True, False, True]


async def test_operation_type_filter_is_repeatable(target: Target) -> None:
    user_id = await disable_then_delete(target)
    token = await target.token()
    path = f"users/{user_id}"
    both = await target.http.get(
        f"{target.admin_path}/admin-events",
        params=[("resourcePath", path), ("operationTypes", "UPDATE"), ("operationTypes", "DELETE")],
        headers={"Authorization": f"Bearer {token}"},
    )
    assert [e["operationType"] for e in both.json()] == ["DELETE", "UPDATE"]
    bare = (await target.get("admin-events", token, resourcePath="users")).json()
    assert bare == []  # no wildcard: an exact path


async def test_date_filters_are_inclusive(target: Target) -> None:
    user_id = await disable_then_delete(target)
    token = await target.token()
    path = f"users/{user_id}"
    events = (await target.get("admin-events", token, resourcePath=path)).json()
    newest, oldest = events[0]["time"], events[-1]["time"]
    window = await target.get(
        "admin-events", token, resourcePath=path, dateFrom=str(oldest), dateTo=str(newest)
    )
    assert len(window.json()) == 3
    today = time.strftime("%Y-%m-%d", time.gmtime(newest / 1000))
    day = await target.get("admin-events", token, resourcePath=path, dateFrom=today, dateTo=today)
    assert len(day.json()) == 3


async def test_bad_parameters_are_refused_as_the_server_does(target: Target) -> None:
    token = await target.token()
    direction = await target.get("admin-events", token, direction="up")
    assert direction.status_code == 400
    assert direction.json() == {
        "error": "Invalid value for sortDirection, expected value is asc or desc"
    }
    date = await target.get("admin-events", token, dateFrom="yesterday")
    assert date.status_code == 400
    assert date.json() == {
        "error": "Invalid value for 'dateFrom', expected format is yyyy-MM-dd or an Epoch timestamp"
    }
    operation = await target.get("admin-events", token, operationTypes="FOO")
    assert operation.status_code == 500


async def test_events_config_and_realm_settings(target: Target) -> None:
    token = await target.token()
    config = (await target.get("events/config", token)).json()
    assert config["adminEventsEnabled"] is True
    assert config["adminEventsDetailsEnabled"] is True
    assert "USER_DISABLED_BY_TEMPORARY_LOCKOUT" in config["enabledEventTypes"]
    realm = (
        await target.http.get(target.admin_path, headers={"Authorization": f"Bearer {token}"})
    ).json()
    assert realm["bruteForceProtected"] is True
    assert realm["permanentLockout"] is False
    assert realm["failureFactor"] == 3
    assert realm["attributes"]["adminEventsExpiration"] == "604800"
