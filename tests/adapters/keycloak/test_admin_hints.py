"""Admin events that can mean a leaver without a ``USER`` event on ``users/{id}``.

Shapes as Keycloak 26.7.3 records them (see test_real_admin_hints.py for the real server).
"""

from __future__ import annotations

from offboard.adapters.keycloak import KeycloakScope
from offboard.adapters.keycloak.admin_hints import hints_from_admin
from offboard.adapters.keycloak.wire import AdminEventRep
from offboard.intake.priorities import DEPARTURE, event_rank
from offboard.ports import EVERYONE
from tests.adapters.keycloak.conftest import FixedClock, make_source
from tests.adapters.keycloak.fake import FakeKeycloak
from tests.adapters.keycloak.test_events import NOW_MS, admin_event

ORG = "78d3018e-c402-416f-b7f3-0e1e57d7aea9"


def rep(operation: str, resource: str, path: str, event_id: str = "a-1") -> AdminEventRep:
    return AdminEventRep(
        id=event_id,
        time=NOW_MS,
        operationType=operation,
        resourceType=resource,
        resourcePath=path,
    )


def hints(event: AdminEventRep, *, group_scope: bool = False) -> list[tuple[str, str]]:
    return [(h.identity_id, h.kind) for h in hints_from_admin(event, group_scope=group_scope)]


def test_removal_from_an_organization_rechecks_the_member_first() -> None:
    # A managed member removed from an organization is a deleted user, with no USER event.
    event = rep("DELETE", "ORGANIZATION_MEMBERSHIP", f"organizations/{ORG}/members/u-1")

    found = hints_from_admin(event, group_scope=False)

    assert [(h.identity_id, h.kind) for h in found] == [
        ("u-1", "admin:ORGANIZATION_MEMBERSHIP:DELETE")
    ]
    assert event_rank(found[0]) == DEPARTURE


def test_deleting_an_organization_asks_for_everyone_whatever_the_scope() -> None:
    # Keycloak removes each member (deleting the managed ones) with no event per member.
    event = rep("DELETE", "ORGANIZATION", f"organizations/{ORG}")
    assert hints(event) == [(EVERYONE, "admin:ORGANIZATION:DELETE")]
    assert hints(rep("UPDATE", "ORGANIZATION", f"organizations/{ORG}")) == []


def test_joining_an_organization_or_creating_one_is_not_a_hint() -> None:
    assert hints(rep("CREATE", "ORGANIZATION_MEMBERSHIP", f"organizations/{ORG}/members")) == []
    assert hints(rep("CREATE", "ORGANIZATION", f"organizations/{ORG}")) == []


def test_a_partial_import_overwrite_rechecks_the_new_user_and_everyone() -> None:
    # OVERWRITE gives the user a new id: the old one was deleted without an event of its own.
    event = rep("UPDATE", "REALM", "users/new-id")

    assert hints(event) == [("new-id", "admin:REALM:UPDATE"), (EVERYONE, "admin:REALM:UPDATE")]


def test_a_partial_import_that_adds_a_user_rechecks_that_user() -> None:
    assert hints(rep("CREATE", "REALM", "users/u-7")) == [("u-7", "admin:REALM:CREATE")]
    assert hints(rep("UPDATE", "REALM", "")) == []  # a realm settings change: nobody


def test_a_group_deleted_or_renamed_asks_for_everyone_under_a_group_scope() -> None:
    for operation in ("DELETE", "UPDATE"):
        event = rep(operation, "GROUP", "groups/g-1")
        assert hints(event, group_scope=True) == [(EVERYONE, f"admin:GROUP:{operation}")]
        assert hints(event, group_scope=False) == []  # a realm or attribute scope


def test_a_group_overwritten_by_a_partial_import_asks_for_everyone_under_a_group_scope() -> None:
    # Measured: the group gets a new id and every membership is dropped, with this one event.
    event = rep("UPDATE", "REALM", "groups/g-new")
    assert hints(event, group_scope=True) == [(EVERYONE, "admin:REALM:UPDATE")]
    assert hints(event, group_scope=False) == []
    assert hints(rep("CREATE", "REALM", "groups/g-added"), group_scope=True) == []


def test_a_scim_shaped_path_names_the_user() -> None:
    assert hints(rep("UPDATE", "USER", "scim/v2/Users/u-2")) == [("u-2", "admin:USER:UPDATE")]
    assert hints(rep("UPDATE", "USER", "Users/u-3")) == [("u-3", "admin:USER:UPDATE")]


def test_a_user_event_on_a_path_naming_no_user_is_not_dropped() -> None:
    assert hints(rep("UPDATE", "USER", "somewhere/else")) == [(EVERYONE, "admin:USER:UPDATE")]


async def test_the_poller_asks_for_the_new_kinds(fake: FakeKeycloak, clock: FixedClock) -> None:
    scope = KeycloakScope(group_paths=("/staff",))
    fake.admin_events = [
        admin_event(
            1, NOW_MS + 1, "DELETE", f"organizations/{ORG}/members/u-1", "ORGANIZATION_MEMBERSHIP"
        ),
        admin_event(2, NOW_MS + 2, "DELETE", "groups/g-1", "GROUP"),
        admin_event(3, NOW_MS + 3, "UPDATE", "users/u-3", "REALM"),
    ]
    async with make_source(fake, clock, scope=scope) as source:
        events, _ = await source.events_since(None)

    assert [(e.identity_id, e.kind) for e in events] == [
        ("u-1", "admin:ORGANIZATION_MEMBERSHIP:DELETE"),
        (EVERYONE, "admin:GROUP:DELETE"),
        ("u-3", "admin:REALM:UPDATE"),
        (EVERYONE, "admin:REALM:UPDATE"),
    ]
    assert len({e.event_id for e in events}) == 4  # each kept by the de-duplication
    query = next(
        r
        for r in fake.requests
        if r.url.path.endswith("/admin-events") and "dateFrom" in r.url.params
    ).url.params
    assert query.get_list("resourceTypes") == [
        "GROUP",
        "GROUP_MEMBERSHIP",
        "ORGANIZATION",
        "ORGANIZATION_MEMBERSHIP",
        "REALM",
        "USER",
    ]
