"""Pieces the fault scenarios share: people who never leave, running a run that may raise,
lockouts, and the known finding about spurious ``enabled:false`` reads."""

from __future__ import annotations

from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from typing import Any

from offboard_emulators.keycloak.login import LoginFailures
from tests.faults.rig import Rig

NON_LEAVERS = [3, 4, 5]
"""People who never leave; some scenarios aim their fault at them."""


async def attempt(rig: Rig, run: Awaitable[Any]) -> None:
    """A run that may raise: the error goes into the 'during' column, never out of the test."""
    try:
        await run
    except Exception as error:
        rig.reports.append(f"raised {type(error).__name__}: {str(error)[:90]}")


@contextmanager
def locked_out(rig: Rig, people: list[int]) -> Iterator[None]:
    """Temporary brute-force lockouts, shown as ``enabled:false`` as 26.3-era servers did."""
    realm, logins = rig.kc.realm, rig.kc.logins
    now = realm.now_ms()
    for n in people:
        logins.failures[rig.world.identity_ids[n]] = LoginFailures(30, now, now + 900_000, 1)
    realm.lockout_reports_disabled = True
    try:
        yield
    finally:
        realm.lockout_reports_disabled = False
        for n in people:
            logins.failures.pop(rig.world.identity_ids[n], None)
