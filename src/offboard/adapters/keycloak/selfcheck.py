"""Startup checks: can offboard read what it needs, and will the realm tell it about changes?

Each missing permission is reported by the role that grants it: every endpoint the adapter
uses is probed once, and a 403 names the ``realm-management`` client role to assign.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from offboard.adapters.keycloak.events import user_event_types
from offboard.adapters.keycloak.requests import AccessDeniedError, AdminReader
from offboard.adapters.keycloak.scope import KeycloakScope
from offboard.adapters.keycloak.wire import EVENTS_CONFIG, REALM, EventsConfigRep, RealmRep
from offboard.ports import (
    AuthenticationError,
    CheckResult,
    NotFoundError,
    OffboardError,
    PermanentError,
    TemporaryError,
)

NIL_USER = "00000000-0000-0000-0000-000000000000"
"""A user id no realm holds: reading it answers 404 when allowed, 403 when not."""


@dataclass(frozen=True, slots=True)
class Probe:
    name: str
    path: str
    role: str
    params: dict[str, str | int | bool] | None = None


BASE_PROBES = (
    Probe("list users", "users", "query-users", {"max": 1, "briefRepresentation": True}),
    Probe("count users", "users/count", "query-users"),
    Probe("read a user by id", f"users/{NIL_USER}", "view-users"),
    Probe("brute-force status", f"attack-detection/brute-force/users/{NIL_USER}", "view-users"),
    Probe("read admin events", "admin-events", "view-events", {"max": 1}),
    Probe("read user events", "events", "view-events", {"max": 1}),
)


class SelfChecker:
    """Runs the checks in order; stops early only when no token can be had."""

    def __init__(
        self,
        reader: AdminReader,
        fetch_token: Callable[[], Awaitable[None]],
        *,
        client_id: str,
        scope: KeycloakScope,
        poll_interval: timedelta,
    ) -> None:
        self._reader = reader
        self._fetch_token = fetch_token
        self._client_id = client_id
        self._scope = scope
        self._poll_interval = poll_interval
        self.realm_id: str | None = None
        """The realm's internal id, once read (webhooks name their realm by it)."""

    async def run(self) -> list[CheckResult]:
        try:
            await self._fetch_token()
        except OffboardError as error:
            return [CheckResult("token", False, str(error), self._token_fix(error))]
        results = [CheckResult("token", True, f"client {self._client_id!r} obtained a token")]
        results.append(await self._realm())
        results.extend(
            [await self._probe(probe) for probe in (*BASE_PROBES, *self._group_probes())]
        )
        results.extend(await self._events_config())
        return results

    async def intake(self) -> list[CheckResult]:
        """The realm settings the event intake depends on: admin and user events saved, and
        kept longer than a poll interval (the daemon asks at every full pass)."""
        found = [await self._realm(), *await self._events_config()]
        return [result for result in found if result.name != "admin event details"]

    def _token_fix(self, error: OffboardError) -> str:
        """The fix that fits how the token request failed: network, realm, or credentials."""
        if isinstance(error, AuthenticationError):
            return (
                f"check the secret of client {self._client_id!r} (keycloak.client_secret_file) "
                "and that the client has service accounts enabled"
            )
        if isinstance(error, PermanentError) and error.status == 404:
            return (
                "check keycloak.realm (realm names are case-sensitive) and keycloak.base_url "
                "(Keycloak 17 and later serve without the /auth prefix)"
            )
        if isinstance(error, TemporaryError) and error.status is None:
            return (
                "check keycloak.base_url (scheme, host, port), DNS and the firewall; for a "
                "private CA set keycloak.ca_bundle"
            )
        return "check keycloak.base_url and the server's logs"

    async def _realm(self) -> CheckResult:
        try:
            realm = await self._reader.read("", REALM)
        except AccessDeniedError:
            return self._denied("realm settings", "view-realm")
        except OffboardError as error:
            return CheckResult("realm", False, str(error), "check the base URL and realm name")
        self.realm_id = realm.id or self.realm_id
        return self._retention(realm)

    def _retention(self, realm: RealmRep) -> CheckResult:
        raw = realm.attributes.get("adminEventsExpiration")
        needed = int(self._poll_interval.total_seconds())
        if raw and raw.strip().isdigit() and 0 < int(raw) < needed:
            return CheckResult(
                "admin event retention",
                False,
                f"admin events expire after {raw} s, shorter than the poll interval ({needed} s)",
                f"raise the realm attribute adminEventsExpiration to at least {needed * 10} "
                "(Realm settings → Events → Admin events settings → Expiration)",
            )
        kept = f"{raw} s" if raw else "forever"
        return CheckResult(
            "realm", True, f"realm {realm.realm!r} reachable; admin events kept {kept}"
        )

    async def _probe(self, probe: Probe) -> CheckResult:
        try:
            await self._reader.get(probe.path, probe.params)
        except NotFoundError:
            pass  # allowed to look, nothing there: the permission is in place
        except AccessDeniedError:
            return self._denied(probe.name, probe.role)
        except OffboardError as error:
            return CheckResult(probe.name, False, str(error))
        return CheckResult(probe.name, True, f"allowed ({probe.role})")

    def _denied(self, what: str, role: str) -> CheckResult:
        return CheckResult(
            what,
            False,
            f"the service account may not read {what} (HTTP 403)",
            f"assign the realm-management client role {role!r} to the service account of "
            f"client {self._client_id!r}",
        )

    def _group_probes(self) -> list[Probe]:
        return [
            Probe(
                f"group {path}", f"group-by-path/{quote(path.strip('/'), safe='/')}", "query-groups"
            )
            for path in self._scope.group_paths
        ]

    async def _events_config(self) -> list[CheckResult]:
        try:
            config = await self._reader.read("events/config", EVENTS_CONFIG)
        except AccessDeniedError:
            return [self._denied("events configuration", "view-events")]
        except OffboardError as error:
            return [CheckResult("events configuration", False, str(error))]
        return [
            _flag(
                config.adminEventsEnabled,
                "admin events",
                "admin events are off: changes reach offboard only at the next reconciliation",
                "Save events",
                "adminEventsEnabled",
            ),
            _flag(
                config.adminEventsDetailsEnabled,
                "admin event details",
                "admin events are saved without what changed: offboard re-reads users anyway, "
                "but Keycloak's own audit trail loses the detail",
                "Include representation",
                "adminEventsDetailsEnabled",
            ),
            self._user_events(config),
        ]

    def _user_events(self, config: EventsConfigRep) -> CheckResult:
        wanted = user_event_types(attribute_scope=bool(self._scope.attributes))
        missing = [t for t in wanted if t not in config.enabledEventTypes]
        if config.eventsEnabled and config.enabledEventTypes and missing:
            return CheckResult(
                "user events",
                False,
                "user events are saved, but not " + ", ".join(missing),
                "add them under Realm settings → Events → User events settings → Event types",
            )
        if not config.eventsEnabled:
            return CheckResult(
                "user events",
                False,
                "user events are not saved: self-deletions and lockouts are seen only by "
                "reconciliation",
                "Realm settings → Events → User events settings → Save events: On "
                "(eventsEnabled=true)",
            )
        return CheckResult("user events", True, "saved")


def _flag(enabled: bool, name: str, problem: str, label: str, field: str) -> CheckResult:
    if enabled:
        return CheckResult(name, True, "on")
    return CheckResult(
        name,
        False,
        problem,
        f"Realm settings → Events → Admin events settings → {label}: On ({field}=true)",
    )
