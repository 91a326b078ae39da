"""The self-check: token, realm, each role by name, events configuration, retention."""

from __future__ import annotations

from datetime import timedelta

import pytest

from offboard.adapters.keycloak import KeycloakScope, KeycloakSource
from offboard.ports import CheckResult
from tests.adapters.keycloak.conftest import make_source
from tests.adapters.keycloak.fake import FakeKeycloak


def failing(results: list[CheckResult] | tuple[CheckResult, ...]) -> dict[str, CheckResult]:
    return {r.name: r for r in results if not r.ok}


async def test_a_well_configured_realm_passes(fake: FakeKeycloak, source: KeycloakSource) -> None:
    results = await source.self_check()

    assert failing(list(results)) == {}
    names = [r.name for r in results]
    assert names[:2] == ["token", "realm"]
    assert {"list users", "read a user by id", "brute-force status", "read admin events"} <= set(
        names
    )


async def test_a_refused_secret_stops_at_the_token(fake: FakeKeycloak) -> None:
    source = make_source(fake)
    source.auth._client_secret = source.auth._client_secret.__class__("nope")
    async with source:
        results = await source.self_check()

    assert [r.name for r in results] == ["token"]
    assert not results[0].ok
    assert "secret" in results[0].fix
    assert "nope" not in results[0].detail + results[0].fix


async def test_missing_roles_are_named(fake: FakeKeycloak, source: KeycloakSource) -> None:
    fake.forbidden = {"admin-events", "events", "attack-detection", ""}

    found = failing(list(await source.self_check()))

    assert "'view-events'" in found["read admin events"].fix
    assert "'view-events'" in found["read user events"].fix
    assert "'view-events'" in found["events configuration"].fix
    assert "'view-users'" in found["brute-force status"].fix
    assert "'view-realm'" in found["realm settings"].fix
    assert "offboard" in found["read admin events"].fix  # the client whose account lacks it
    assert "list users" not in found


async def test_admin_events_off_warns_with_the_setting_to_change(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    fake.events_config = {"eventsEnabled": False, "adminEventsEnabled": False}

    results = list(await source.self_check())
    found = failing(results)

    assert "adminEventsEnabled=true" in found["admin events"].fix
    assert "eventsEnabled=true" in found["user events"].fix
    # offboard re-reads users and does not need the representation: a warning, not a failure.
    details = next(r for r in results if r.name == "admin event details")
    assert details.ok
    assert details.warning
    assert "adminEventsDetailsEnabled=true" in details.fix


async def test_user_event_types_that_are_not_saved_are_listed(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    fake.events_config = {
        "eventsEnabled": True,
        "enabledEventTypes": ["LOGIN", "DELETE_ACCOUNT"],
        "adminEventsEnabled": True,
        "adminEventsDetailsEnabled": True,
    }

    found = failing(list(await source.self_check()))

    assert "USER_DISABLED_BY_PERMANENT_LOCKOUT" in found["user events"].detail
    assert "DELETE_ACCOUNT" not in found["user events"].detail


async def test_admin_event_retention_shorter_than_the_poll_interval_fails(
    fake: FakeKeycloak,
) -> None:
    fake.realm_attributes = {"adminEventsExpiration": "60"}
    async with make_source(fake, poll_interval=timedelta(minutes=5)) as source:
        found = failing(list(await source.self_check()))

    assert "expire after 60 s" in found["admin event retention"].detail
    assert "adminEventsExpiration" in found["admin event retention"].fix


async def test_group_scope_probes_each_group(fake: FakeKeycloak) -> None:
    async with make_source(fake, scope=KeycloakScope(group_paths=("/staff",))) as source:
        results = await source.self_check()

    assert any(r.name == "group /staff" for r in results)
    assert "group-by-path/staff" in fake.paths()


async def test_a_refused_read_names_the_role_it_needs(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    # The daemon logs the error itself: "a realm-management role is missing" named none.
    from offboard.adapters.keycloak.requests import AccessDeniedError

    fake.forbidden = {"admin-events"}
    with pytest.raises(AccessDeniedError, match="lacks the realm-management role 'view-events'"):
        await source.events_since(None)


def _profile(*declared: dict[str, object], policy: str | None = None) -> dict[str, object]:
    profile: dict[str, object] = {"attributes": [{"name": "username"}, *declared]}
    if policy is not None:
        profile["unmanagedAttributePolicy"] = policy
    return profile


@pytest.mark.parametrize(
    ("profile", "ok"),
    [
        (None, True),  # before Keycloak 24: nothing to check
        (_profile(), False),
        (_profile(policy="ADMIN_VIEW"), True),
        (_profile(policy="ADMIN_EDIT"), True),
        (_profile({"name": "dept", "permissions": {"view": ["admin"]}}), True),
        (_profile({"name": "dept", "permissions": {"edit": ["admin"]}}), True),
        (_profile({"name": "dept", "permissions": {"view": ["user"], "edit": []}}), False),
    ],
)
async def test_a_scope_attribute_must_be_one_keycloak_keeps_and_shows(
    fake: FakeKeycloak, profile: dict[str, object] | None, ok: bool
) -> None:
    fake.user_profile = profile
    scope = KeycloakScope(attributes={"dept": "eng"})
    async with make_source(fake, scope=scope) as source:
        results = {r.name: r for r in await source.self_check()}

    assert results["attribute dept"].ok is ok
    if not ok:
        assert "User profile" in results["attribute dept"].fix
