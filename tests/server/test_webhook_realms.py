"""Which realm a delivery is about, and on whose clock it happened.

One Phase Two sender may serve every realm of the server (``WEBHOOK_URI``): a delivery
about another realm must not queue a re-check, nor start a full pass, here."""

from __future__ import annotations

import json
from datetime import timedelta

from offboard.intake.priorities import ReadLedger
from offboard.intake.webhooks import sign
from tests.server.conftest import SECRET, Wired

OURS = "fc051b06-fe48-4955-9640-4ab283cec971"
URL = "/webhooks/keycloak"


def delivery(
    uid: str, realm_id: str, kind: str = "admin.USER-DELETE", path: str = "users/u-1"
) -> bytes:
    payload = {
        "uid": uid,
        "type": kind,
        "time": 1795867200000,
        "realmId": realm_id,
        "resourcePath": path,
    }
    return json.dumps(payload).encode()


async def post(wired: Wired, body: bytes) -> int:
    headers = {"X-Keycloak-Signature": sign(body, SECRET), "Content-Type": "application/json"}
    return (await wired.client.post(URL, content=body, headers=headers)).status_code


async def test_a_delivery_about_another_realm_is_ignored(wired: Wired) -> None:
    wired.receiver.realm_id = lambda: OURS

    other = await post(wired, delivery("e-1", "0d0e0f00-another-realm"))
    import_elsewhere = await post(
        wired, delivery("e-2", "0d0e0f00-another-realm", "admin.REALM-UPDATE")
    )
    ours = await post(wired, delivery("e-3", OURS))

    assert (other, import_elsewhere, ours) == (200, 200, 202)
    assert [e.event_id for e in wired.queued] == ["e-3"]
    counted = wired.metrics.webhooks.labels("other_realm")._value.get()
    assert counted == 2


async def test_a_delivery_naming_the_realm_by_name_is_taken(wired: Wired) -> None:
    wired.receiver.realm_id = lambda: OURS
    wired.receiver.realm_name = "offboard-test"
    assert await post(wired, delivery("e-6", "offboard-test")) == 202


async def test_before_the_realm_id_is_known_every_realm_is_taken(wired: Wired) -> None:
    # The id is read with the realm or from the first event polled; until then nothing is
    # dropped on a guess.
    assert await post(wired, delivery("e-4", "0d0e0f00-another-realm")) == 202


async def test_a_delivery_is_dated_on_our_clock(wired: Wired) -> None:
    # Keycloak 5 s behind: a disable stamped 09:59:56 by it happened at 10:00:01 by ours.
    wired.receiver.keycloak_behind = lambda: 5.0
    wired.clock.advance(5.0)  # our clock, when the delivery (stamped at T0 by Keycloak) lands

    assert await post(wired, delivery("e-5", OURS)) == 202

    [event] = wired.queued
    assert event.occurred_at == wired.clock.now()
    ledger = ReadLedger()
    ledger.reread(event.identity_id, wired.clock.now() - timedelta(seconds=1))
    assert not ledger.covered(event.identity_id, [event])  # happened after that read
