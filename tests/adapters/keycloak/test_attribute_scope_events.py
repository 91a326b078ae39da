"""Under an attribute scope the poller also reads ``UPDATE_PROFILE`` (a user editing the scope
attribute leaves the scope with that user event only), and the self-check wants it saved."""

from __future__ import annotations

from offboard.adapters.keycloak import KeycloakScope
from tests.adapters.keycloak.conftest import FixedClock, make_source
from tests.adapters.keycloak.fake import FakeKeycloak
from tests.adapters.keycloak.test_events import NOW_MS, user_event

SAVED = [
    "DELETE_ACCOUNT",
    "USER_DISABLED_BY_PERMANENT_LOCKOUT",
    "USER_DISABLED_BY_TEMPORARY_LOCKOUT",
]


def user_types(fake: FakeKeycloak) -> list[str]:
    reads = [r for r in fake.requests if r.url.path.endswith("/events")]
    return reads[-1].url.params.get_list("type")


async def test_an_attribute_scope_reads_profile_updates(
    fake: FakeKeycloak, clock: FixedClock
) -> None:
    fake.user_events = [user_event(1, NOW_MS + 5, "UPDATE_PROFILE")]
    scope = KeycloakScope(attributes={"employment": "active"})
    async with make_source(fake, clock, scope=scope) as source:
        events, _ = await source.events_since(None)

    assert "UPDATE_PROFILE" in user_types(fake)
    assert [(e.identity_id, e.kind) for e in events] == [("u-1", "user:UPDATE_PROFILE")]


async def test_other_scopes_do_not(fake: FakeKeycloak, clock: FixedClock) -> None:
    async with make_source(fake, clock, scope=KeycloakScope(group_paths=("/staff",))) as source:
        await source.events_since(None)

    assert "UPDATE_PROFILE" not in user_types(fake)


async def test_the_self_check_wants_profile_updates_saved_under_an_attribute_scope(
    fake: FakeKeycloak, clock: FixedClock
) -> None:
    fake.events_config = {
        "eventsEnabled": True,
        "enabledEventTypes": SAVED,
        "adminEventsEnabled": True,
    }
    scoped = make_source(fake, clock, scope=KeycloakScope(attributes={"employment": "active"}))
    async with scoped, make_source(fake, clock) as whole_realm:
        attribute = {r.name: r for r in await scoped.self_check()}
        realm = {r.name: r for r in await whole_realm.self_check()}

    assert not attribute["user events"].ok
    assert attribute["user events"].detail == "user events are saved, but not UPDATE_PROFILE"
    assert realm["user events"].ok
