"""The webhook while the store (its replay memory) is slow or down (QA finding).

The replay memory is a store table; the endpoint wrote to it on the event loop, so a store
that took seconds to answer stalled every listener and the daemon's own loops with it
(``/healthz`` too: a liveness probe would restart the pod), and a store that failed made the
delivery a 500 with a traceback. Now the store is asked off the loop, and a failure is 503
with Retry-After (the sender retries; the next reconciliation covers it anyway).
"""

from __future__ import annotations

import asyncio
import threading

from offboard.intake.webhooks import ReplayFilter
from tests.server.conftest import Wired
from tests.server.test_webhook_endpoint import URL, delivery, signed


class StoreDownError(Exception):
    pass


class DownMemory:
    def first_time(self, delivery_id: str) -> bool:
        raise StoreDownError("connection to db.internal failed")

    def forget(self, delivery_id: str) -> None:
        raise StoreDownError("connection to db.internal failed")


class SlowMemory:
    """A memory in the store that answers only once the test lets it (or after 3 s)."""

    def __init__(self) -> None:
        self.memory = ReplayFilter()
        self.entered = threading.Event()
        self.go = threading.Event()

    def first_time(self, delivery_id: str) -> bool:
        self.entered.set()
        self.go.wait(timeout=3)
        return self.memory.first_time(delivery_id)

    def forget(self, delivery_id: str) -> None:
        self.memory.forget(delivery_id)


async def test_a_store_outage_is_503_with_retry_after_and_nothing_queued(wired: Wired) -> None:
    wired.receiver.replays = DownMemory()
    body = delivery()
    response = await wired.client.post(URL, content=body, headers=signed(body))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "db.internal" not in response.text
    assert wired.queued == []
    scraped = (await wired.client.get("/metrics")).text
    assert 'offboard_webhooks_total{result="store_unavailable"} 1.0' in scraped


async def test_a_slow_store_does_not_stall_the_other_requests(wired: Wired) -> None:
    memory = SlowMemory()
    wired.receiver.replays = memory
    body = delivery()
    webhook = asyncio.create_task(wired.client.post(URL, content=body, headers=signed(body)))
    assert await asyncio.to_thread(memory.entered.wait, 2)  # the store is being asked
    alive = await asyncio.wait_for(wired.client.get("/healthz"), 2)  # while the store hangs
    assert alive.status_code == 200
    assert not webhook.done()
    memory.go.set()
    assert (await webhook).status_code == 202
