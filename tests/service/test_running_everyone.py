"""A change that names no one it affects (a scope group deleted, a partial import overwrite)
reaches the daemon as an ``EVERYONE`` hint: a full reconciliation at once, no re-check, and
never back-to-back passes when such changes keep coming."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from offboard.core.identities import IdentityId
from offboard.ports import EVERYONE, IdentityEvent
from offboard.service.running import Daemon, DaemonConfig
from tests.service.test_running import FAST, Rig, eventually, running


def rig_with(config: DaemonConfig) -> Rig:
    rig = Rig()
    rig.daemon = Daemon(rig.passes, rig.source, rig.store, rig.clock, rig.status, rig.lease, config)
    return rig


def everyone(rig: Rig, event_id: str = "a-1:everyone") -> IdentityEvent:
    return IdentityEvent(EVERYONE, event_id, rig.clock.now(), "admin:GROUP:DELETE")


async def test_an_everyone_hint_starts_a_full_reconciliation_now() -> None:
    rig = rig_with(replace(FAST, everyone_gap=0.0))  # the timer is a minute away
    async with running(rig):
        await eventually(lambda: rig.passes.fulls == 1)

        assert rig.daemon.submit(everyone(rig))

        await eventually(lambda: rig.passes.fulls == 2)
    assert rig.passes.rechecks == []  # nobody named "*" is ever looked up


async def test_an_everyone_hint_from_the_poller_starts_one_too() -> None:
    rig = rig_with(replace(FAST, everyone_gap=0.0))
    async with running(rig):
        await eventually(lambda: rig.passes.fulls == 1)
        rig.source.events.append(
            IdentityEvent(IdentityId("*"), "a-2:everyone", rig.clock.now(), "admin:REALM:UPDATE")
        )
        await eventually(lambda: rig.passes.fulls == 2)
    assert rig.passes.rechecks == []


async def test_hints_that_keep_coming_are_merged_and_spaced() -> None:
    rig = rig_with(replace(FAST, everyone_gap=2.0))
    async with running(rig):
        await eventually(lambda: rig.passes.fulls == 1)
        for n in range(20):  # a tool renaming groups in a loop
            rig.daemon.submit(everyone(rig, f"g-{n}:everyone"))
        await asyncio.sleep(0.1)
        assert rig.passes.fulls == 1  # waits out the gap since the last pass began

        await eventually(lambda: rig.passes.fulls == 2, within=5.0)
        await asyncio.sleep(0.1)
        assert rig.passes.fulls == 2  # twenty hints, one pass
