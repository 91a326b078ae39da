"""Issue 19 item 5 again, through the wave queue the daemon uses (issue 18).

2,000 correctly signed webhooks for 70 people go through the real receiver into the wave
queue; then the leaver's disable arrives. The handler stands in for the wave's re-check (it
records each wave and takes a little time). Asserted: order and bounds, never wall time.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from offboard.core.identities import IdentityId
from offboard.intake.waves import Wave, WaveOutcome, WaveQueues
from offboard.ports import IdentityEvent
from tests.hostile.test_event_flood import FLOOD, LEAVER, PEOPLE, body, deliver

WAVES_AT_ONCE = 2


class Waves:
    """Records each wave handed on; each takes ``hold`` seconds."""

    def __init__(self, hold: float = 0.005) -> None:
        self.waves: list[list[IdentityId]] = []
        self.hold = hold

    async def __call__(self, wave: Wave) -> WaveOutcome:
        self.waves.append(list(wave))
        await asyncio.sleep(self.hold)
        return WaveOutcome(settled=frozenset(wave))


async def test_a_leaver_goes_in_the_first_wave_formed_after_a_flood() -> None:
    waves = Waves()
    queues = WaveQueues(waves, linger=0.01, max_wave=20, concurrency=WAVES_AT_ONCE)
    people = [f"{n:08d}-0000-4000-8000-000000000000" for n in range(PEOPLE)]
    flood = [body(f"f-{n}", people[n % PEOPLE], True) for n in range(FLOOD)]
    statuses = await deliver(queues, flood)
    started_before = len(waves.waves)
    statuses += await deliver(queues, [body("leaver", LEAVER, False)])
    await asyncio.wait_for(queues.join(), 60)
    assert statuses.count(202) == FLOOD + 1
    position = next(n for n, wave in enumerate(waves.waves) if LEAVER in wave) - started_before
    # At most the waves already holding a slot go before the leaver's: none that waited.
    assert position <= WAVES_AT_ONCE
    handled = sum(len(wave) for wave in waves.waves)
    assert handled < FLOOD  # the flood was merged per person, not 2,000 re-checks


async def test_the_wave_backlog_is_bounded_and_a_departure_still_gets_in() -> None:
    overflows: list[int] = []
    gate = asyncio.Event()
    handled: list[IdentityId] = []

    async def stuck(wave: Wave) -> WaveOutcome:
        handled.extend(wave)
        await gate.wait()  # Keycloak slow: nothing finishes while the flood arrives
        return WaveOutcome(settled=frozenset(wave))

    bound = 50
    queues = WaveQueues(stuck, linger=0.0, max_wave=10, concurrency=2, max_backlog=bound,
                        on_overflow=lambda: overflows.append(1))  # fmt: skip
    now = datetime.now(UTC)
    for n in range(FLOOD):
        queues.submit(IdentityEvent(IdentityId(f"p-{n}"), f"e-{n}", now, "admin:USER:UPDATE"))
    queues.submit(IdentityEvent(LEAVER, "leave", now, "admin:USER:DELETE"))
    await asyncio.sleep(0.05)  # two waves take their slots; the rest waits
    gate.set()
    await asyncio.wait_for(queues.join(), 60)
    assert queues.overflows == FLOOD - bound
    assert overflows
    assert LEAVER in handled  # a departure gets room beyond the bound
    assert len(handled) == bound + 1
    assert handled.index(LEAVER) < 30  # and goes in the first wave formed after it arrived
