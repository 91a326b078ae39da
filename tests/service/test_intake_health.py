"""The daemon asks, after each full pass, whether the realm still saves the events it polls."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from offboard.ports import EVERYONE, CheckResult, IdentityEvent
from offboard.service.intake_health import IntakeHealth
from offboard.service.running import Daemon
from tests.service.test_running import FAST, Rig, eventually, running

OFF = CheckResult(
    "admin events",
    False,
    "admin events are off: changes reach offboard only at the next reconciliation",
    "Realm settings → Events → Admin events settings → Save events: On",
)


class Realm:
    def __init__(self) -> None:
        self.results: list[CheckResult] = [CheckResult("admin events", True, "on")]
        self.asked = 0
        self.fail = False

    async def check(self) -> Sequence[CheckResult]:
        self.asked += 1
        if self.fail:
            raise TimeoutError
        return self.results


def full_pass_now(rig: Rig) -> None:
    event_id = f"e{rig.clock.now().timestamp()}-{id(rig)}-{len(rig.passes.rechecks)}"
    assert rig.daemon.submit(
        IdentityEvent(EVERYONE, event_id, rig.clock.now(), "admin:GROUP:DELETE")
    )


def with_intake(rig: Rig, realm: Realm) -> Rig:
    rig.daemon = Daemon(
        rig.passes, rig.source, rig.store, rig.clock, rig.status, rig.lease,
        replace(FAST, everyone_gap=0.0),
        intake=IntakeHealth(realm.check, rig.status),
    )  # fmt: skip
    return rig


async def test_events_switched_off_are_a_warning_after_the_next_full_pass() -> None:
    realm = Realm()
    rig = with_intake(Rig(), realm)
    async with running(rig):
        await eventually(lambda: realm.asked == 1)
        assert rig.status.warnings() == []
        realm.results = [OFF, CheckResult("admin event details", True, "on")]
        full_pass_now(rig)
        await eventually(lambda: realm.asked == 2)
        [warning] = rig.status.warnings()
        assert warning.startswith("Keycloak admin events: admin events are off")
        assert "Save events: On" in warning

        realm.fail = True  # a check that is not answered changes nothing
        full_pass_now(rig)
        await eventually(lambda: realm.asked == 3)
        assert len(rig.status.warnings()) == 1

        realm.fail = False
        realm.results = [CheckResult("admin events", True, "on")]
        full_pass_now(rig)
        await eventually(lambda: realm.asked == 4)
        assert rig.status.warnings() == []
