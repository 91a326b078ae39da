"""A change that names no one it affects (a scope group deleted, a partial import overwrite)
reaches the daemon as an ``EVERYONE`` hint: a full reconciliation at once, no re-check."""

from __future__ import annotations

from offboard.core.identities import IdentityId
from offboard.ports import EVERYONE, IdentityEvent
from tests.service.test_running import Rig, eventually, running


async def test_an_everyone_hint_starts_a_full_reconciliation_now() -> None:
    rig = Rig()  # reconcile_interval is a minute: only the hint can start the second pass
    async with running(rig):
        await eventually(lambda: rig.passes.fulls == 1)
        hint = IdentityEvent(EVERYONE, "a-1:everyone", rig.clock.now(), "admin:GROUP:DELETE")

        assert rig.daemon.submit(hint)

        await eventually(lambda: rig.passes.fulls == 2)
    assert rig.passes.rechecks == []  # nobody named "*" is ever looked up


async def test_an_everyone_hint_from_the_poller_starts_one_too() -> None:
    rig = Rig()
    async with running(rig):
        await eventually(lambda: rig.passes.fulls == 1)
        rig.source.events.append(
            IdentityEvent(IdentityId("*"), "a-2:everyone", rig.clock.now(), "admin:REALM:UPDATE")
        )
        await eventually(lambda: rig.passes.fulls == 2)
    assert rig.passes.rechecks == []
