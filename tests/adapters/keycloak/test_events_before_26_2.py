"""Keycloak 26.0 and 26.1: event dates by day only, no ``direction`` (issue 12, point 11).

The emulator's ``events_before_26_2`` setting answers like those servers: epoch-millisecond
dates get 400 and events come newest first. The poller must fall back, order the events
itself and say so, never fail every poll in silence.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from structlog.testing import capture_logs

from tests.adapters.keycloak.test_emulator import source_for
from tests.contract.targets import Target, in_process_emulator


@pytest.fixture
async def old_keycloak() -> AsyncIterator[Target]:
    async with in_process_emulator() as target:
        assert target.emulator is not None
        target.emulator.realm.events_before_26_2 = True
        yield target


async def test_the_poller_falls_back_to_day_dates_and_orders_events(
    old_keycloak: Target,
) -> None:
    async with source_for(old_keycloak) as source:
        with capture_logs() as logs:
            _, cursor = await source.events_since(None)
        first = await old_keycloak.create_user("early-leaver")
        second = await old_keycloak.create_user("late-leaver")
        await old_keycloak.set_enabled(first, False)
        await old_keycloak.set_enabled(second, False)
        events, cursor = await source.events_since(cursor)
        again, _ = await source.events_since(cursor)

    # Oldest first: each person's create (a joiner, for provisioning) before their disable.
    # Events of the same millisecond may come in either order: dates are all Keycloak gives.
    seen = [(e.identity_id, e.kind) for e in events]
    assert sorted(seen) == sorted(
        (person, f"admin:USER:{kind}")
        for person in (first, second)
        for kind in ("CREATE", "UPDATE")
    )
    for person in (first, second):
        assert seen.index((person, "admin:USER:CREATE")) < seen.index((person, "admin:USER:UPDATE"))
    assert [e.occurred_at for e in events] == sorted(e.occurred_at for e in events)
    assert again == []
    warnings = [line for line in logs if line["log_level"] == "warning"]
    assert any("older than 26.2" in line["event"] for line in warnings)


async def test_the_emulator_refuses_epoch_dates_like_26_1(old_keycloak: Target) -> None:
    with pytest.raises(httpx.HTTPStatusError) as refused:
        await old_keycloak.admin("GET", "admin-events?dateFrom=1700000000000")
    assert refused.value.response.status_code == 400
    assert "yyyy-MM-dd" in refused.value.response.text


async def test_config_check_says_which_kind_of_server_it_is(old_keycloak: Target) -> None:
    async with source_for(old_keycloak) as source:
        [line] = [r for r in await source.self_check() if r.name == "assume.event_queries"]
    assert line.ok
    assert line.warning
    assert "older than 26.2" in line.detail
    assert "26.2" in line.fix
