"""Startup checks: can offboard read what it needs, and will the realm tell it about changes?

Each missing permission is reported by the role that grants it: every endpoint the adapter
uses is probed once, and a 403 names the ``realm-management`` client role to assign.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from offboard.adapters.keycloak.events import user_event_types
from offboard.adapters.keycloak.refusals import NoTokenEndpointError, TokenRefusedError
from offboard.adapters.keycloak.requests import AccessDeniedError, AdminReader, seg
from offboard.adapters.keycloak.scope import KeycloakScope
from offboard.adapters.keycloak.scope_checks import scope_checks
from offboard.adapters.keycloak.wire import (
    CHECKED_USERS,
    COUNT,
    EVENTS_CONFIG,
    REALM,
    EventsConfigRep,
    RealmRep,
)
from offboard.ports import (
    CheckResult,
    NotFoundError,
    OffboardError,
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
    action: str = ""
    """What the service account may not do when refused; the name when empty."""


def base_probes(someone: str) -> tuple[Probe, ...]:
    """The endpoints every configuration reads besides the listing; ``someone``: a user id."""
    return (
        Probe("count users", "users/count", "query-users"),
        Probe("read a user by id", f"users/{seg(someone)}", "view-users"),
        Probe(
            "brute-force status",
            f"attack-detection/brute-force/users/{NIL_USER}",
            "view-users",
            action="read a user's brute-force status",
        ),
        Probe("read admin events", "admin-events", "view-events", {"max": 1}),
        Probe("read user events", "events", "view-events", {"max": 1}),
    )


DUPLICATE_EMAILS = CheckResult(
    "duplicate emails",
    True,
    "the realm lets several users share an email: offboard matches accounts by email, so "
    "each shared one is blocked for a human (ambiguous-identities)",
    "Realm settings → Login → Duplicate emails: Off once no two users share one (or match "
    "by an attribute: policy.match_attribute)",
    warning=True,
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
        self._duplicate_emails = False
        self._may_write = False
        """The realm's internal id, once read (webhooks name their realm by it)."""

    async def run(self) -> list[CheckResult]:
        try:
            await self._fetch_token()
        except (TokenRefusedError, NoTokenEndpointError) as error:
            return [CheckResult("token", False, error.problem, error.fix)]
        except OffboardError as error:
            return [CheckResult("token", False, str(error), self._token_fix(error))]
        results = [CheckResult("token", True, f"client {self._client_id!r} obtained a token")]
        results.append(await self._realm())
        if self._duplicate_emails:
            results.append(DUPLICATE_EMAILS)
        listing, someone = await self._list_users()
        results.append(listing)
        if self._may_write:
            results.append(self._write_access())
        results.extend([await self._probe(probe) for probe in base_probes(someone)])
        results.extend(await scope_checks(self._reader, self._scope, self._denied))
        results.extend(await self._events_config())
        return results

    async def _list_users(self) -> tuple[CheckResult, str]:
        """The listing's check, and a listed user's id for the read by id (an unknown id
        answers 404 to ``query-users`` alone, which may read no one)."""
        name = "list users"
        query: dict[str, str | int | bool] = {"max": 1, "briefRepresentation": True}
        try:
            listed = await self._reader.read("users", CHECKED_USERS, query)
        except AccessDeniedError:
            return self._denied(name, name, "query-users"), NIL_USER
        except OffboardError as error:
            return CheckResult(name, False, str(error)), NIL_USER
        if listed:
            self._may_write = listed[0].access.get("manage", False)
            return CheckResult(name, True, "allowed (query-users)"), listed[0].id
        try:
            count = await self._reader.read("users/count", COUNT)
        except OffboardError:
            count = 0  # the count's own check says why
        if count:
            # Keycloak filters the listing by what the caller may view: query-users alone
            # counts everyone and lists no one.
            action = f"see any of the realm's {count} users: Keycloak lists them only to"
            return self._denied(name, action, "view-users", status=" view-users"), NIL_USER
        return CheckResult(
            name, True, "allowed (query-users); the realm has no users yet"
        ), NIL_USER

    def _write_access(self) -> CheckResult:
        return CheckResult(
            "write access",
            True,
            "the service account may change users (Keycloak lists them as manageable): "
            "offboard only reads, and a leaked secret would let its holder edit anyone",
            f"remove manage-users (and realm-admin) from the service account of client "
            f"{self._client_id!r}: Clients → {self._client_id} → Service accounts roles",
            warning=True,
        )

    async def intake(self) -> list[CheckResult]:
        """The realm settings the event intake depends on: admin and user events saved, and
        kept longer than a poll interval (the daemon asks at every full pass)."""
        found = [await self._realm(), *await self._events_config()]
        return [result for result in found if result.name != "admin event details"]

    @staticmethod
    def _token_fix(error: OffboardError) -> str:
        """The fix that fits how the token request failed when Keycloak gave no cause."""
        if isinstance(error, TemporaryError) and "WRONG_VERSION_NUMBER" in str(error):
            return (
                "keycloak.base_url says https:// but the server answers plain HTTP on that "
                "port: use the port Keycloak serves HTTPS on (plain http:// only to loopback)"
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
            return self._denied("realm settings", "read the realm settings", "view-realm")
        except OffboardError as error:
            return CheckResult("realm", False, str(error), "check the base URL and realm name")
        if realm.id is None:
            # Without view-realm Keycloak answers 200 with the name and a few flags only:
            # no attributes, so the retention would read as "forever" without being known.
            return self._denied(
                "realm settings",
                "read the realm settings (Keycloak answered only the realm's name), so the "
                "admin event retention cannot be checked",
                "view-realm",
                status="",
            )
        self.realm_id = realm.id
        self._duplicate_emails = realm.duplicateEmailsAllowed
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
            return self._denied(probe.name, probe.action or probe.name, probe.role)
        except OffboardError as error:
            return CheckResult(probe.name, False, str(error))
        return CheckResult(probe.name, True, f"allowed ({probe.role})")

    def _denied(
        self, name: str, action: str, role: str, *, status: str = " (HTTP 403)"
    ) -> CheckResult:
        return CheckResult(
            name,
            False,
            f"the service account may not {action}{status}",
            f"assign the realm-management client role {role!r} to the service account of "
            f"client {self._client_id!r} (Clients → {self._client_id} → Service accounts "
            "roles → Assign role → Filter by clients)",
        )

    async def _events_config(self) -> list[CheckResult]:
        try:
            config = await self._reader.read("events/config", EVENTS_CONFIG)
        except AccessDeniedError:
            return [
                self._denied("events configuration", "read the events configuration", "view-events")
            ]
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
                needed=False,
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


def _flag(
    enabled: bool, name: str, problem: str, label: str, field: str, *, needed: bool = True
) -> CheckResult:
    """On, or off with the switch to turn on: a failure when offboard needs it, else a
    warning (the representation serves Keycloak's audit trail, not offboard)."""
    if enabled:
        return CheckResult(name, True, "on")
    return CheckResult(
        name,
        not needed,
        problem,
        f"Realm settings → Events → Admin events settings → {label}: On ({field}=true)",
        warning=not needed,
    )
