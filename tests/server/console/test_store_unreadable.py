"""The console the moment the store stops answering (QA finding).

Every store read of the attention list is guarded, and an unreadable store is shown once this
replica is not ready; but that takes a lease ttl (30 s). Until then the reads failed quietly
and the page said "Nothing needs you" while a hold stood: a green page that was not true.
"""

from __future__ import annotations

from offboard.service.holds import GuardState
from tests.server.console.test_attention import healthy, kinds, read
from tests.service.fakes import FakeClock


class StoreDownError(Exception):
    pass


def unreadable() -> GuardState:
    raise StoreDownError("connection to db.internal failed")


async def test_a_store_that_just_stopped_answering_is_never_green() -> None:
    clock = FakeClock()
    status = healthy(clock)  # the lease loop heard from the store a moment ago
    status.guard_reader = unreadable
    document, page = await read(status)
    assert kinds(document) == ["store"]
    assert document["needs_attention"] is True
    assert "data-testid='all-clear'" not in page
    assert "could not be read" in page
    assert "db.internal" not in page
