"""Helpers for the wave scenarios: a mass disable that arrives as many one-person events.

Shared by tests/e2e/test_budget_waves.py (Keycloak emulator), the real-Keycloak wave test and
benchmarks/faults.py. The hold is read from the store file the daemons share, as a human at
the CLI would; the release goes through the same service function as `offboard hold release`.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from offboard.cli.wiring import connect
from offboard.core.holds import DEPROVISIONING, Hold
from offboard.service.holds import ReleaseReport, release_hold
from offboard.settings import Settings
from offboard.store import open_store
from offboard_emulators.keycloak.emulator import EmulatorState
from offboard_emulators.keycloak.model import AuthDetails, User
from tests.e2e.harness import DOMAIN, Tenant

EMULATED_REREAD_DELAY = 0.05
"""Between the three confirming reads of a released person against the Keycloak emulator (as
the fault rig has it): the command's 0.2 s leaves a real server's concurrent read behind, and
made a release of 290 people wait 55 s on these pauses alone (four at a time, 0.6 s each).
The reads and what they must show are the same."""


def read_hold(store: Path) -> Hold | None:
    opened = open_store(store)
    try:
        return opened.active_hold(DEPROVISIONING)
    finally:
        opened.close()


async def release(
    settings: Settings,
    reason: str,
    by: str = "test-operator",
    *,
    reread_delay: float | None = None,
) -> ReleaseReport:
    """What `offboard hold release --reason ...` does, in this event loop. ``reread_delay``:
    the pause between the confirming reads of each released person (None: the command's
    0.2 s); the emulated waves pass ``EMULATED_REREAD_DELAY``."""
    async with connect(settings, reread_delay=reread_delay) as wired:
        return await release_hold(
            store=wired.store,
            source=wired.source,
            directory=wired.directory,
            policy=wired.policy,
            clock=wired.clock,
            by=by,
            reason=reason,
        )


@dataclass
class EmulatedPeople:
    """Users in the Keycloak emulator with a matching active Atlassian account each."""

    state: EmulatorState
    tenant: Tenant
    ids: list[str] = field(default_factory=list)
    accounts: dict[str, str] = field(default_factory=dict)

    def add(self, count: int) -> None:
        for _ in range(count):
            name = f"wave-{uuid.uuid4().hex[:8]}"
            user = User(
                id=str(uuid.uuid4()),
                username=name,
                created=int(time.time() * 1000),
                email=f"{name}@{DOMAIN}",
                email_verified=True,
            )
            self.state.realm.add_user(user)
            self.ids.append(user.id)
            self.accounts[user.id] = self.tenant.add_account(user.email or "")

    def disable(self, user_ids: list[str], *, with_events: bool = True) -> None:
        """Disabled as an admin (or a sync) would: one admin event per person."""
        realm = self.state.realm
        auth = AuthDetails(realm.settings.id, "admin-cli", "admin")
        for user_id in user_ids:
            with realm.lock:
                realm.users[user_id].enabled = False
            if with_events:
                realm.record_admin_event(auth, "UPDATE", f"users/{user_id}", {"enabled": False})

    def delete(self, user_ids: list[str]) -> None:
        """Deleted as an admin would: one admin event per person."""
        realm = self.state.realm
        auth = AuthDetails(realm.settings.id, "admin-cli", "admin")
        for user_id in user_ids:
            realm.remove_user(user_id)
            realm.record_admin_event(auth, "DELETE", f"users/{user_id}", None)

    def inactive(self, user_ids: list[str] | None = None) -> list[str]:
        """Who of ``user_ids`` (default: everyone) has an inactive account now."""
        chosen = self.ids if user_ids is None else user_ids
        return [u for u in chosen if self.tenant.status(self.accounts[u]) == "inactive"]

    def disable_requests(self, user_ids: list[str]) -> int:
        return sum(self.tenant.lifecycle_calls(self.accounts[u]) for u in user_ids)
