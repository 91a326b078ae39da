"""A realm whose admin events are switched off while the daemon runs: the daemon's intake
check (after each full pass) says so on the status, and stops saying so once fixed."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from offboard.adapters.keycloak import KeycloakSource
from offboard.ports import SystemClock
from offboard.service.intake_health import IntakeHealth
from offboard.service.status import DaemonStatus
from tests.adapters.keycloak.test_real_keycloak import throwaway_realm
from tests.keycloak.admin import KeycloakAdmin
from tests.keycloak.fixture import KeycloakServer

pytestmark = pytest.mark.keycloak


async def test_admin_events_switched_off_show_on_the_status_until_switched_on(
    keycloak_server: KeycloakServer,
) -> None:
    events_on = {"adminEventsEnabled": True, "eventsEnabled": True}
    with throwaway_realm(keycloak_server, events_on) as (name, secret):
        user, password = keycloak_server.admin.credentials
        admin = KeycloakAdmin(keycloak_server.base_url, name, user, password)
        status = DaemonStatus(SystemClock())
        source = KeycloakSource(keycloak_server.base_url, name, "offboard", SecretStr(secret))
        async with source:
            health = IntakeHealth(source.intake_check, status)
            await health.refresh()
            before = status.warnings()
            learned = source.realm_id  # what webhooks from this realm carry as realmId
            admin.request("PUT", "events/config", json={"adminEventsEnabled": False})
            await health.refresh()
            off = status.warnings()
            admin.request("PUT", "events/config", json={"adminEventsEnabled": True})
            await health.refresh()
            after = status.warnings()
        realm_id = admin.request("GET", "").json()["id"]
        admin.close()

    assert learned == realm_id

    assert [w for w in before if "admin events" in w] == []
    [warning] = [w for w in off if w.startswith("Keycloak admin events")]
    assert "only at the next reconciliation" in warning
    assert "adminEventsEnabled=true" in warning
    assert [w for w in after if "admin events" in w] == []
