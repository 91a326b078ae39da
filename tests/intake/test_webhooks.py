"""Signature verification and parsing of Phase Two keycloak-events deliveries."""

from __future__ import annotations

import json

import pytest

from offboard.intake.webhooks import (
    MalformedWebhookError,
    ReplayFilter,
    parse_webhook,
    sign,
    verify_signature,
)

SECRET = b"s3cret"
USER = "4c1c8f8e-1a2b-4c3d-9e8f-0123456789ab"


def admin_event(operation: str = "UPDATE", path: str = f"users/{USER}") -> bytes:
    return json.dumps(
        {
            "uid": "evt-1",
            "type": f"admin.USER-{operation}",
            "time": 1764331200000,
            "realmId": "r",
            "resourcePath": path,
            "authDetails": {"realmId": "master", "userId": "admin"},
            "representation": '{"enabled":false}',
        }
    ).encode()


def test_a_correct_signature_verifies_with_or_without_prefix() -> None:
    body = admin_event()
    digest = sign(body, SECRET)
    assert verify_signature(body, digest, SECRET)
    assert verify_signature(body, f"sha256={digest}", SECRET)
    assert verify_signature(body, digest.upper(), SECRET)


@pytest.mark.parametrize("header", [None, "", "sha256=", "00" * 32, "not hex at all ✓"])
def test_missing_or_wrong_signatures_fail(header: str | None) -> None:
    assert not verify_signature(admin_event(), header, SECRET)


def test_a_signature_over_another_body_or_secret_fails() -> None:
    body = admin_event()
    assert not verify_signature(body + b" ", sign(body, SECRET), SECRET)
    assert not verify_signature(body, sign(body, b"other"), SECRET)


def test_an_empty_secret_never_verifies() -> None:
    body = admin_event()
    assert not verify_signature(body, sign(body, b""), b"")


@pytest.mark.parametrize("operation", ["UPDATE", "DELETE"])
def test_user_admin_events_become_a_hint_for_that_user(operation: str) -> None:
    delivery = parse_webhook(admin_event(operation))
    assert delivery.delivery_id == "evt-1"
    assert delivery.event is not None
    assert delivery.event.identity_id == USER
    # the representation shows the disable: marked, so the re-check goes first
    assert delivery.event.kind == f"webhook:admin.USER-{operation}:enabled=false"
    assert delivery.event.occurred_at.year == 2025


def test_a_sub_resource_path_still_names_the_user() -> None:
    body = admin_event("UPDATE", f"users/{USER}/groups/abc")
    delivery = parse_webhook(body)
    assert delivery.event is not None
    assert delivery.event.identity_id == USER


def test_delete_account_access_event_names_the_user() -> None:
    body = json.dumps(
        {"uid": "u2", "type": "access.DELETE_ACCOUNT", "time": 1, "userId": USER}
    ).encode()
    delivery = parse_webhook(body)
    assert delivery.event is not None
    assert delivery.event.identity_id == USER


@pytest.mark.parametrize(
    "payload",
    [
        {"uid": "x", "type": "admin.CLIENT-UPDATE", "time": 1, "resourcePath": "clients/1"},
        {"uid": "x", "type": "admin.USER-CREATE", "time": 1, "resourcePath": f"users/{USER}"},
        {"uid": "x", "type": "access.LOGIN", "time": 1, "userId": USER},
    ],
)
def test_events_not_about_a_leaving_user_carry_no_hint(payload: dict[str, object]) -> None:
    assert parse_webhook(json.dumps(payload).encode()).event is None


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[1, 2]",
        b'{"type": "admin.USER-UPDATE", "time": 1}',
        b'{"uid": "x", "type": "admin.USER-UPDATE"}',
        b'{"uid": "x", "type": "admin.USER-UPDATE", "time": "yesterday"}',
        b'{"uid": {"a": 1}, "type": "admin.USER-UPDATE", "time": 1}',
        b'{"uid": "x", "type": "admin.USER-UPDATE", "time": 1e300}',
        b"\xff\xfe",
    ],
)
def test_malformed_bodies_are_refused(body: bytes) -> None:
    with pytest.raises(MalformedWebhookError):
        parse_webhook(body)


def test_replay_filter_lets_each_id_through_once_and_stays_bounded() -> None:
    replays = ReplayFilter(capacity=2)
    assert replays.first_time("a")
    assert not replays.first_time("a")
    assert replays.first_time("b")
    assert replays.first_time("c")  # "a" is forgotten now
    assert replays.first_time("a")
    replays.forget("a")
    assert replays.first_time("a")


def test_a_group_leave_names_the_user_and_ranks_as_a_departure() -> None:
    body = json.dumps(
        {"uid": "g1", "type": "admin.GROUP_MEMBERSHIP-DELETE", "time": 1,
         "resourcePath": f"users/{USER}/groups/0f1e2d3c"}
    ).encode()  # fmt: skip
    delivery = parse_webhook(body)
    assert delivery.event is not None
    assert delivery.event.identity_id == USER
    assert delivery.event.kind == "webhook:admin.GROUP_MEMBERSHIP-DELETE"


@pytest.mark.parametrize(
    ("representation", "mark"),
    [('{"enabled": true}', ":enabled=true"), ("not json", ""), ('["x"]', ""),
     ('{"enabled": "no"}', ""), (None, "")],
)  # fmt: skip
def test_the_enabled_mark_comes_only_from_a_boolean_in_the_representation(
    representation: str | None, mark: str
) -> None:
    payload = {"uid": "e", "type": "admin.USER-UPDATE", "time": 1, "resourcePath": f"users/{USER}"}
    if representation is not None:
        payload["representation"] = representation
    delivery = parse_webhook(json.dumps(payload).encode())
    assert delivery.event is not None
    assert delivery.event.kind == f"webhook:admin.USER-UPDATE{mark}"
