"""Issue 19 item 8: replayed, stale, oversized and weakly-signed webhook deliveries.

The receiver is the real one over the real store (SQLite in a temporary folder), so a replay
after a restart meets the ids the first process stored.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import httpx
from starlette.applications import Starlette

from offboard.intake.webhooks import MAX_DELIVERY_ID_LENGTH, ReplayFilter, sign
from offboard.ports import IdentityEvent
from offboard.server.app import create_webhook_app
from offboard.server.webhook import WebhookReceiver
from offboard.store import SqlStore, open_store
from offboard.store.deliveries import StoredDeliveries
from tests.hostile.conftest import HostileRow
from tests.service.fakes import FakeClock

SECRET = b"a-webhook-secret-long-enough-0123"
USER = "0b8c4a57-5d0e-4f43-9b3a-0a1c2d3e4f50"
WINDOW = timedelta(minutes=15)


def delivery(clock: FakeClock, uid: str = "evt-1", shift: timedelta = timedelta(0)) -> bytes:
    millis = int((clock.now() + shift).timestamp() * 1000)
    return json.dumps(
        {"uid": uid, "type": "admin.USER-UPDATE", "time": millis, "realmId": "r",
         "resourcePath": f"users/{USER}"}
    ).encode()  # fmt: skip


async def post(app: Starlette, body: bytes) -> int:
    headers = {"X-Keycloak-Signature": sign(body, SECRET)}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://w") as client:
        answer = await client.post("/webhooks/keycloak", content=body, headers=headers)
    return answer.status_code


def receiver_over(
    path: Path, clock: FakeClock, queued: list[IdentityEvent]
) -> tuple[SqlStore, Starlette]:
    store = open_store(path)
    memory = StoredDeliveries(store.engine, 2 * WINDOW, clock.now)
    receiver = WebhookReceiver(
        SECRET, lambda e: queued.append(e) is None, replays=memory, now=clock.now, window=WINDOW
    )
    return store, create_webhook_app(receiver)


async def test_a_replayed_delivery_is_refused_after_a_restart(
    tmp_path: Path, hostile_row: HostileRow
) -> None:
    clock = FakeClock()
    queued: list[IdentityEvent] = []
    body = delivery(clock)
    store, app = receiver_over(tmp_path / "s.db", clock, queued)
    first = await post(app, body)
    store.close()  # the daemon stops ...
    clock.advance(60)
    store, app = receiver_over(tmp_path / "s.db", clock, queued)  # ... and starts again
    try:
        replayed = await post(app, body)
    finally:
        store.close()
    assert (first, replayed) == (202, 200)  # 200: "duplicate delivery ignored"
    assert len(queued) == 1
    hostile_row(
        area="webhook",
        inputs=2,
        wrongful_actions=0,
        crashes=0,
        secrets_leaked=0,
        lost_actions=0,
        note="a captured delivery replayed after a restart: ignored (ids kept in the store)",
    )


async def test_deliveries_dated_outside_the_window_are_refused(hostile_row: HostileRow) -> None:
    clock = FakeClock()
    queued: list[IdentityEvent] = []
    receiver = WebhookReceiver(
        SECRET, lambda e: queued.append(e) is None, now=clock.now, window=WINDOW
    )
    app = create_webhook_app(receiver)
    shifts = [timedelta(hours=-1), timedelta(days=-400), timedelta(minutes=16),
              timedelta(days=3650)]  # fmt: skip
    answers = [await post(app, delivery(clock, f"old-{n}", s)) for n, s in enumerate(shifts)]
    inside = await post(app, delivery(clock, "recent", timedelta(minutes=-14)))
    assert answers == [400] * len(shifts)
    assert inside == 202
    assert [e.event_id for e in queued] == ["recent"]
    hostile_row(
        area="webhook",
        inputs=len(shifts) + 1,
        wrongful_actions=0,
        crashes=0,
        secrets_leaked=0,
        lost_actions=0,
        note="correctly signed deliveries dated 1 h to 10 years away: refused (400); "
        "one 14 min old: queued",
    )


async def test_an_oversized_uid_is_refused_and_never_remembered(hostile_row: HostileRow) -> None:
    clock = FakeClock()
    memory = ReplayFilter()
    queued: list[IdentityEvent] = []
    receiver = WebhookReceiver(
        SECRET, lambda e: queued.append(e) is None, replays=memory, now=clock.now
    )
    app = create_webhook_app(receiver)
    huge = await post(app, delivery(clock, "u" * 60_000))
    limit = await post(app, delivery(clock, "u" * (MAX_DELIVERY_ID_LENGTH + 1)))
    fits = await post(app, delivery(clock, "u" * MAX_DELIVERY_ID_LENGTH))
    assert (huge, limit, fits) == (400, 400, 202)
    assert len(memory._seen) == 1
    assert max(len(key) for key in memory._seen) == MAX_DELIVERY_ID_LENGTH
    hostile_row(
        area="webhook",
        inputs=3,
        wrongful_actions=0,
        crashes=0,
        secrets_leaked=0,
        lost_actions=0,
        note=f"uids of 60,000 and {MAX_DELIVERY_ID_LENGTH + 1} characters: refused, not kept",
    )


def test_stored_ids_older_than_the_window_are_pruned(tmp_path: Path) -> None:
    clock = FakeClock()
    store = open_store(tmp_path / "s.db")
    try:
        memory = StoredDeliveries(store.engine, WINDOW, clock.now)
        assert memory.first_time("a")
        assert not memory.first_time("a")
        clock.advance(WINDOW.total_seconds() + 1)
        memory._since_prune = 10**6  # the next delivery prunes
        assert memory.first_time("b")
        assert memory.first_time("a")  # pruned: only the time window refuses it now
        memory.forget("b")
        assert memory.first_time("b")
    finally:
        store.close()
