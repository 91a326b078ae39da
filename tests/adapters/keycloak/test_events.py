"""Event polling: filters, overlap, paging, de-duplication across polls, the opaque cursor."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from offboard.adapters.keycloak import KeycloakSource
from tests.adapters.keycloak.conftest import FixedClock
from tests.adapters.keycloak.fake import FakeKeycloak

NOW_MS = int(datetime(2026, 11, 28, 12, 0, tzinfo=UTC).timestamp() * 1000)


def admin_event(
    n: int, time: int, operation: str = "UPDATE", path: str | None = None, resource: str = "USER"
) -> dict[str, object]:
    return {
        "id": f"a-{n}",
        "time": time,
        "operationType": operation,
        "resourceType": resource,
        "resourcePath": path or f"users/u-{n}",
        "realmId": "r",
    }


def user_event(n: int, time: int, kind: str = "DELETE_ACCOUNT") -> dict[str, object]:
    return {"id": f"e-{n}", "time": time, "type": kind, "userId": f"u-{n}"}


async def test_first_poll_asks_for_user_and_membership_changes_oldest_first(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    fake.admin_events = [admin_event(2, NOW_MS + 20, "DELETE"), admin_event(1, NOW_MS + 10)]
    fake.user_events = [user_event(3, NOW_MS + 15)]

    events, cursor = await source.events_since(None)

    assert [(e.identity_id, e.kind) for e in events] == [
        ("u-1", "admin:USER:UPDATE"),
        ("u-3", "user:DELETE_ACCOUNT"),
        ("u-2", "admin:USER:DELETE"),
    ]
    assert events[0].occurred_at == datetime.fromtimestamp((NOW_MS + 10) / 1000, tz=UTC)
    admin_query = next(
        r
        for r in fake.requests
        if r.url.path.endswith("/admin-events") and "dateFrom" in r.url.params
    ).url.params
    assert admin_query.get_list("resourceTypes") == [
        "GROUP",
        "GROUP_MEMBERSHIP",
        "ORGANIZATION",
        "ORGANIZATION_MEMBERSHIP",
        "REALM",
        "USER",
    ]
    assert admin_query.get_list("operationTypes") == ["CREATE", "DELETE", "UPDATE"]
    assert admin_query["direction"] == "asc"
    assert int(admin_query["dateFrom"]) == NOW_MS - 120_000  # now − the default overlap
    user_query = next(r for r in fake.requests if r.url.path.endswith("/events")).url.params
    assert user_query.get_list("type") == [
        "DELETE_ACCOUNT",
        "USER_DISABLED_BY_PERMANENT_LOCKOUT",
        "USER_DISABLED_BY_TEMPORARY_LOCKOUT",
    ]
    assert cursor is not None
    assert json.loads(cursor)["admin"] == NOW_MS + 20


async def test_leaving_or_joining_a_group_and_a_new_user_trigger_a_recheck(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    fake.admin_events = [
        admin_event(1, NOW_MS + 1, "DELETE", "users/u-1/groups/g-1", "GROUP_MEMBERSHIP"),
        admin_event(2, NOW_MS + 2, "CREATE", "users/u-2/groups/g-1", "GROUP_MEMBERSHIP"),
        admin_event(3, NOW_MS + 3, "CREATE"),
    ]

    events, _ = await source.events_since(None)

    assert [(e.identity_id, e.kind) for e in events] == [
        ("u-1", "admin:GROUP_MEMBERSHIP:DELETE"),
        ("u-2", "admin:GROUP_MEMBERSHIP:CREATE"),
        ("u-3", "admin:USER:CREATE"),  # a joiner, for provisioning
    ]


async def test_overlapping_polls_return_each_event_once(
    fake: FakeKeycloak, source: KeycloakSource, clock: FixedClock
) -> None:
    fake.admin_events = [admin_event(1, NOW_MS + 10)]
    first, cursor = await source.events_since(None)
    fake.admin_events.append(admin_event(2, NOW_MS + 10))  # same millisecond, stored late
    fake.admin_events.append(admin_event(3, NOW_MS + 50_000))

    second, cursor = await source.events_since(cursor)
    third, _ = await source.events_since(cursor)

    assert [e.event_id for e in first] == ["a-1"]
    assert [e.event_id for e in second] == ["a-2", "a-3"]
    assert third == []
    date_from = [
        int(r.url.params["dateFrom"])
        for r in fake.requests
        if r.url.path.endswith("/admin-events") and "dateFrom" in r.url.params
    ]
    assert date_from[-1] == NOW_MS + 50_000 - 120_000


async def test_all_pages_are_read(fake: FakeKeycloak, source: KeycloakSource) -> None:
    fake.admin_events = [admin_event(n, NOW_MS + n) for n in range(250)]

    events, _ = await source.events_since(None)

    assert len(events) == 250
    assert len({e.event_id for e in events}) == 250
    pages = [r for r in fake.requests if r.url.path.endswith("/admin-events")]
    assert len([r for r in pages if "dateFrom" in r.url.params]) == 3  # after the clock probe


async def test_events_on_other_paths_and_anonymous_user_events_are_skipped(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    fake.admin_events = [
        admin_event(1, NOW_MS, path="users/u-1/groups/g-1"),  # still about user u-1
        admin_event(2, NOW_MS, path="scim/v2/Users/u-2"),  # a change through the SCIM API
        admin_event(3, NOW_MS, "DELETE", path="clients/c-1", resource="CLIENT"),
    ]
    fake.user_events = [{"id": "e-9", "time": NOW_MS, "type": "DELETE_ACCOUNT"}]

    events, _ = await source.events_since(None)

    assert [e.identity_id for e in events] == ["u-1", "u-2"]


async def test_the_remembered_ids_are_bounded(fake: FakeKeycloak, source: KeycloakSource) -> None:
    fake.admin_events = [admin_event(n, NOW_MS + n) for n in range(2100)]

    _, cursor = await source.events_since(None)

    assert cursor is not None
    assert len(json.loads(cursor)["seen"]) == 2000


async def test_an_event_without_id_gets_a_stable_fingerprint(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    event = admin_event(1, NOW_MS)
    del event["id"]
    fake.admin_events = [event]

    first, cursor = await source.events_since(None)
    again, _ = await source.events_since(cursor)

    assert len(first) == 1
    assert again == []
