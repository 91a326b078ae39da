"""Issue 19 item 5: a flood of events must not starve a real leaver's re-check.

2,000 correctly signed webhooks for 70 people go through the real receiver into the real
wave queue (issue 18); then the leaver's disable arrives. The handler stands in for a wave's
re-check (it records each wave and takes a little time, like reads against Keycloak).
Asserted: order and bounds, never wall time.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import httpx

from offboard.core.identities import IdentityId
from offboard.intake.priorities import DEPARTURE, ROUTINE, event_rank
from offboard.intake.waves import Wave, WaveOutcome, WaveQueues
from offboard.intake.webhooks import sign
from offboard.ports import IdentityEvent
from offboard.server.app import create_webhook_app
from offboard.server.webhook import WebhookReceiver
from tests.hostile.conftest import HostileRow

SECRET = b"a-webhook-secret-long-enough-0123"
FLOOD = 2000
PEOPLE = 70
CONCURRENCY = 4
"""Waves at once."""
WAVE = 20
"""People per wave at most (small, so that the flood makes many waves)."""
LEAVER = IdentityId("99999999-0000-4000-8000-000000000000")


def body(uid: str, user: str, enabled: bool) -> bytes:
    return json.dumps(
        {"uid": uid, "type": "admin.USER-UPDATE", "time": int(time.time() * 1000),
         "resourcePath": f"users/{user}",
         "representation": json.dumps({"id": user, "enabled": enabled})}
    ).encode()  # fmt: skip


class Rechecks:
    """Records each wave and who was in it, in order; each wave takes ``hold`` seconds."""

    def __init__(self, hold: float = 0.005) -> None:
        self.order: list[IdentityId] = []
        self.waves: list[list[IdentityId]] = []
        self.hold = hold

    async def __call__(self, wave: Wave) -> WaveOutcome:
        self.waves.append(list(wave))
        self.order.extend(wave)
        await asyncio.sleep(self.hold)
        return WaveOutcome(settled=frozenset(wave))


async def deliver(queues: WaveQueues, bodies: list[bytes]) -> list[int]:
    receiver = WebhookReceiver(SECRET, queues.submit)
    transport = httpx.ASGITransport(app=create_webhook_app(receiver))
    statuses = []
    async with httpx.AsyncClient(transport=transport, base_url="http://w") as client:
        for raw in bodies:
            headers = {"X-Keycloak-Signature": sign(raw, SECRET)}
            answer = await client.post("/webhooks/keycloak", content=raw, headers=headers)
            statuses.append(answer.status_code)
    return statuses


async def test_a_leaver_is_rechecked_before_a_flood_of_updates(hostile_row: HostileRow) -> None:
    rechecks = Rechecks()
    queues = WaveQueues(rechecks, linger=0.01, max_wave=WAVE, concurrency=CONCURRENCY)
    people = [f"{n:08d}-0000-4000-8000-000000000000" for n in range(PEOPLE)]
    flood = [body(f"f-{n}", people[n % PEOPLE], True) for n in range(FLOOD)]
    statuses = await deliver(queues, flood)
    started_before = len(rechecks.waves)
    statuses += await deliver(queues, [body("leaver", LEAVER, False)])
    await asyncio.wait_for(queues.join(), 60)
    leavers_wave = next(n for n, wave in enumerate(rechecks.waves) if LEAVER in wave)
    position = leavers_wave - started_before
    assert statuses.count(202) == FLOOD + 1
    # At most the waves already holding a slot go before the leaver's: none that waited.
    assert position <= CONCURRENCY
    assert len(rechecks.order) < FLOOD  # the flood was merged per person, not 2,000 re-checks
    hostile_row(
        area="event flood",
        inputs=FLOOD + 1,
        wrongful_actions=0,
        crashes=0,
        secrets_leaked=0,
        lost_actions=0,
        note=f"{FLOOD} signed updates for {PEOPLE} people, then a disable: the leaver's "
        f"wave started {position} waves later ({len(rechecks.order)} people re-checked in "
        f"{len(rechecks.waves)} waves)",
    )


async def test_the_backlog_is_bounded_and_overflow_asks_for_a_full_reconciliation(
    hostile_row: HostileRow,
) -> None:
    overflows: list[int] = []
    gate = asyncio.Event()

    handled: list[IdentityId] = []

    async def stuck(wave: Wave) -> WaveOutcome:
        handled.extend(wave)
        await gate.wait()  # Keycloak slow: nothing finishes while the flood arrives
        return WaveOutcome(settled=frozenset(wave))

    bound = 50
    queues = WaveQueues(
        stuck, linger=0.0, max_wave=10, concurrency=2, max_backlog=bound,
        on_overflow=lambda: overflows.append(1),
    )  # fmt: skip
    now = datetime.now(UTC)
    for n in range(FLOOD):
        queues.submit(IdentityEvent(IdentityId(f"p-{n}"), f"e-{n}", now, "admin:USER:UPDATE"))
    held = queues.backlog  # one event per person queued
    queues.submit(IdentityEvent(LEAVER, "leave", now, "admin:USER:DELETE"))
    await asyncio.sleep(0.05)  # two waves take their slots, the rest waits on Keycloak
    gate.set()
    await asyncio.wait_for(queues.join(), 60)
    assert held == bound
    assert overflows
    assert queues.overflows == FLOOD - bound
    assert LEAVER in handled  # a departure gets room beyond the bound
    assert handled.index(LEAVER) < 10  # and goes in the first wave formed after it arrived
    assert len(handled) == bound + 1
    hostile_row(
        area="event flood",
        inputs=FLOOD + 1,
        wrongful_actions=0,
        crashes=0,
        secrets_leaked=0,
        lost_actions=0,
        note=f"{FLOOD} people's events with Keycloak stalled: backlog held at {bound}, "
        f"{queues.overflows} dropped for a full reconciliation, the departure still queued",
    )


async def test_a_recheck_whose_person_was_read_after_the_event_is_skipped() -> None:
    rechecks = Rechecks(hold=0.0)
    queues = WaveQueues(rechecks, linger=0.0)
    person = IdentityId("p-1")
    queues.ledger.reread(person, datetime.now(UTC))
    old = datetime.now(UTC) - timedelta(minutes=1)
    queues.submit(IdentityEvent(person, "old", old, "admin:USER:UPDATE"))
    await queues.join()
    queues.submit(IdentityEvent(person, "new", datetime.now(UTC), "admin:USER:UPDATE"))
    await queues.join()
    assert rechecks.order == [person]  # only the event after the read
    assert queues.ledger.skipped == 1


async def test_a_full_reconciliation_covers_every_older_event() -> None:
    rechecks = Rechecks(hold=0.0)
    queues = WaveQueues(rechecks, linger=0.0)
    before = datetime.now(UTC) - timedelta(minutes=1)
    queues.ledger.reread_everyone(datetime.now(UTC))
    for n in range(10):
        queues.submit(IdentityEvent(IdentityId(f"p-{n}"), f"e-{n}", before, "admin:USER:UPDATE"))
    await queues.join()
    assert rechecks.order == []


def test_departure_kinds_rank_first() -> None:
    def rank(kind: str) -> int:
        return event_rank(IdentityEvent(LEAVER, "x", datetime.now(UTC), kind))

    departures = ["admin:USER:DELETE", "admin:GROUP_MEMBERSHIP:DELETE", "user:DELETE_ACCOUNT",
                  "user:USER_DISABLED_BY_PERMANENT_LOCKOUT", "webhook:admin.USER-DELETE",
                  "webhook:admin.USER-UPDATE:enabled=false", "webhook:access.DELETE_ACCOUNT",
                  "webhook:admin.GROUP_MEMBERSHIP-DELETE"]  # fmt: skip
    routine = ["webhook:access.UPDATE_PROFILE", "webhook:admin.USER-UPDATE:enabled=true",
               "admin:GROUP_MEMBERSHIP:CREATE"]  # fmt: skip
    assert {rank(kind) for kind in departures} == {DEPARTURE}
    assert {rank(kind) for kind in routine} == {ROUTINE}
