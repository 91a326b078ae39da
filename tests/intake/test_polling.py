"""The admin-event poller: queue each new event once, then keep the cursor."""

from __future__ import annotations

from datetime import timedelta

import pytest

from offboard.intake.polling import ADMIN_EVENTS_CURSOR, EventPoller
from offboard.ports import IdentityEvent
from tests.service.fakes import T0, FakeClock, FakeSource, FakeStore


async def test_events_are_queued_once_and_the_cursor_is_kept() -> None:
    source, store, clock = FakeSource(), FakeStore(), FakeClock()
    queued: list[IdentityEvent] = []
    poller = EventPoller(source, store, queued.append, clock)
    source.add("u1", T0)
    source.add("u2", T0)
    clock.advance(1.5)

    first = await poller.poll_once()
    assert [e.identity_id for e in queued] == ["u1", "u2"]
    assert store.cursor(ADMIN_EVENTS_CURSOR) == "2"
    assert first.lag_seconds == 1.5

    source.add("u3", T0)
    second = await poller.poll_once()  # the overlap brings u2 back: dropped as seen
    assert [e.identity_id for e in queued] == ["u1", "u2", "u3"]
    assert (second.received, second.queued) == (2, 1)
    assert store.cursor(ADMIN_EVENTS_CURSOR) == "3"


async def test_a_failed_read_keeps_the_cursor() -> None:
    source, store = FakeSource(), FakeStore()
    store.set_cursor(ADMIN_EVENTS_CURSOR, "7")
    source.fail = True
    poller = EventPoller(source, store, lambda e: None, FakeClock())
    with pytest.raises(ConnectionError):
        await poller.poll_once()
    assert store.cursor(ADMIN_EVENTS_CURSOR) == "7"


async def test_no_events_means_no_lag_figure() -> None:
    poller = EventPoller(FakeSource(), FakeStore(), lambda e: None, FakeClock())
    result = await poller.poll_once()
    assert (result.queued, result.lag_seconds) == (0, None)


async def test_an_event_dated_after_now_has_no_negative_lag() -> None:
    # Events are dated on offboard's clock with Keycloak's skew, which is over-stated by up
    # to a second (token ``iat`` is in whole seconds): a fresh event can land just after now.
    source, clock = FakeSource(), FakeClock()
    source.add("u1", clock.now() + timedelta(seconds=0.4))
    result = await EventPoller(source, FakeStore(), lambda e: None, clock).poll_once()
    assert result.lag_seconds == 0.0
