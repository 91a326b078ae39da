"""Webhooks carry the same leavers the poller reads without a USER event on users/{id}:
an organization removal, a partial import, a scope group deleted, a SCIM-shaped path."""

from __future__ import annotations

import json

from offboard.intake.priorities import DEPARTURE, event_rank
from offboard.intake.webhooks import parse_webhook
from offboard.ports import EVERYONE

USER = "4c1c8f8e-1a2b-4c3d-9e8f-0123456789ab"
ORG = "78d3018e-c402-416f-b7f3-0e1e57d7aea9"


def delivery(kind: str, path: str) -> bytes:
    return json.dumps(
        {"uid": "evt-1", "type": kind, "time": 1764331200000, "realmId": "r", "resourcePath": path}
    ).encode()


def test_an_organization_removal_names_the_member_as_a_departure() -> None:
    body = delivery("admin.ORGANIZATION_MEMBERSHIP-DELETE", f"organizations/{ORG}/members/{USER}")

    event = parse_webhook(body).event

    assert event is not None
    assert event.identity_id == USER
    assert event_rank(event) == DEPARTURE


def test_a_partial_import_overwrite_asks_for_everyone() -> None:
    event = parse_webhook(delivery("admin.REALM-UPDATE", f"users/{USER}")).event
    assert event is not None
    assert event.identity_id == EVERYONE
    added = parse_webhook(delivery("admin.REALM-CREATE", f"users/{USER}")).event
    assert added is not None
    assert added.identity_id == USER


def test_a_group_deleted_asks_for_everyone_only_under_a_group_scope() -> None:
    body = delivery("admin.GROUP-DELETE", "groups/g-1")
    scoped = parse_webhook(body, group_scope=True).event
    assert scoped is not None
    assert scoped.identity_id == EVERYONE
    assert parse_webhook(body).event is None


def test_an_organization_deleted_asks_for_everyone() -> None:
    event = parse_webhook(delivery("admin.ORGANIZATION-DELETE", f"organizations/{ORG}")).event
    assert event is not None
    assert event.identity_id == EVERYONE


def test_a_scim_shaped_path_names_the_user() -> None:
    event = parse_webhook(delivery("admin.USER-UPDATE", f"scim/v2/Users/{USER}")).event
    assert event is not None
    assert event.identity_id == USER


def test_a_user_action_still_names_the_user() -> None:
    event = parse_webhook(delivery("admin.USER-ACTION", f"users/{USER}/reset-password")).event
    assert event is not None
    assert event.identity_id == USER


def test_a_user_delivery_naming_no_user_is_ignored_not_a_full_pass() -> None:
    assert parse_webhook(delivery("admin.USER-UPDATE", "somewhere/else")).event is None


def test_other_kinds_still_carry_no_hint() -> None:
    for kind, path in [
        ("admin.ORGANIZATION_MEMBERSHIP-CREATE", f"organizations/{ORG}/members"),
        ("admin.GROUP-CREATE", "groups"),
        ("admin.REALM-UPDATE", ""),  # a realm setting, nobody
        ("admin.USER-CREATE", f"users/{USER}"),
    ]:
        assert parse_webhook(delivery(kind, path), group_scope=True).event is None, kind
