"""Keycloak's clock behind ours: events are dated on our clock, and a first poll starts at
Keycloak's "now" (both from the ``iat`` of its tokens)."""

from __future__ import annotations

from datetime import timedelta

from offboard.adapters.keycloak.events import EventCursor
from offboard.adapters.keycloak.skew import keycloak_behind
from offboard.intake.priorities import ReadLedger
from tests.adapters.keycloak.conftest import FixedClock, make_source
from tests.adapters.keycloak.fake import FakeKeycloak, jwt_with
from tests.adapters.keycloak.test_events import NOW_MS, admin_event

BEHIND_S = 300
"""Keycloak five minutes behind: more than the poller's two-minute overlap."""


def test_the_skew_is_read_from_the_token_iat() -> None:
    assert keycloak_behind(jwt_with({"iat": 1000}), 1300.5) == 300.5
    assert keycloak_behind(jwt_with({"iat": 1000}), 990.0) == -10.0  # Keycloak ahead
    for token in ("opaque", "a.b.c", jwt_with({"iat": "soon"}), jwt_with({"sub": "x"})):
        assert keycloak_behind(token, 1.0) is None


async def test_a_first_poll_starts_at_keycloaks_now_not_ours(
    fake: FakeKeycloak, clock: FixedClock
) -> None:
    fake.issued_at = NOW_MS // 1000 - BEHIND_S
    keycloak_now = NOW_MS - BEHIND_S * 1000
    async with make_source(fake, clock) as source:
        _, cursor = await source.events_since(None)  # the daemon's first poll: nothing yet
        fake.admin_events = [admin_event(1, keycloak_now + 1_000, "DELETE")]  # a second later
        clock.current += timedelta(seconds=1)

        events, _ = await source.events_since(cursor)

    assert [(e.identity_id, e.kind) for e in events] == [("u-1", "admin:USER:DELETE")]


async def test_an_event_after_a_reread_is_not_taken_as_covered_by_it(
    fake: FakeKeycloak, clock: FixedClock
) -> None:
    fake.issued_at = NOW_MS // 1000 - BEHIND_S
    keycloak_now = NOW_MS - BEHIND_S * 1000
    cursor = EventCursor(keycloak_now, keycloak_now).dump()  # a daemon polling for a while
    async with make_source(fake, clock) as source:
        await source.events_since(cursor)
        ledger = ReadLedger()
        ledger.reread(source_id := "u-1", clock.now())  # type: ignore[arg-type]
        # Disabled a second after that read began, stamped by Keycloak's clock.
        fake.admin_events = [admin_event(1, keycloak_now + 1_000)]
        clock.current += timedelta(seconds=2)

        events, _ = await source.events_since(cursor)

    assert [e.identity_id for e in events] == [source_id]
    assert events[0].occurred_at >= clock.current - timedelta(seconds=1)  # on our clock
    assert not ledger.covered(events[0].identity_id, events)


async def test_a_clock_far_off_is_a_problem_for_the_status(
    fake: FakeKeycloak, clock: FixedClock
) -> None:
    fake.issued_at = NOW_MS // 1000 - BEHIND_S
    async with make_source(fake, clock) as source:
        await source.events_since(None)
        far = {r.name: r for r in await source.intake_check()}
        fake.issued_at = NOW_MS // 1000 - 2
        source.auth.forget_token()
        await source.events_since(None)
        near = {r.name: r for r in await source.intake_check()}

    assert not far["clock"].ok
    assert far["clock"].detail.startswith("Keycloak's clock is about 300 s behind offboard's")
    assert "NTP" in far["clock"].fix
    assert near["clock"].ok
