"""Fill a realm: from a Keycloak realm-import JSON file, or with the fast bulk builder.

The seed format IS Keycloak's realm representation (the file `kc.sh start-dev --import-realm`
reads), so one file seeds both the real server and the emulator. Honoured keys: `realm`,
`id`, `accessTokenLifespan`, the brute-force fields, the events fields, `attributes`;
`clients[]` (`clientId`, `secret`, `publicClient`, `serviceAccountsEnabled`,
`directAccessGrantsEnabled`); `groups[]` (`id`, `name`, `attributes`, nested `subGroups`);
`users[]` (`id`, `username`, `email`, `firstName`, `lastName`, `emailVerified`, `enabled`,
`createdTimestamp`, `attributes`, `groups` as paths, `serviceAccountClientId`,
`federationLink`, password `credentials`, `clientRoles.realm-management`). `${NAME}` placeholders
are resolved from the environment given, as Keycloak does on import.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from offboard_emulators.keycloak.model import Client, Group, User
from offboard_emulators.keycloak.state import Realm, RealmSettings

PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_.]+)(?::([^}]*))?\}")
SETTINGS_KEYS = {
    "accessTokenLifespan": "access_token_lifespan",
    "bruteForceProtected": "brute_force_protected",
    "permanentLockout": "permanent_lockout",
    "failureFactor": "failure_factor",
    "waitIncrementSeconds": "wait_increment_seconds",
    "maxFailureWaitSeconds": "max_failure_wait_seconds",
    "minimumQuickLoginWaitSeconds": "minimum_quick_login_wait_seconds",
    "quickLoginCheckMilliSeconds": "quick_login_check_milli_seconds",
    "maxDeltaTimeSeconds": "max_delta_time_seconds",
    "eventsEnabled": "events_enabled",
    "eventsExpiration": "events_expiration",
    "eventsListeners": "events_listeners",
    "enabledEventTypes": "enabled_event_types",
    "adminEventsEnabled": "admin_events_enabled",
    "adminEventsDetailsEnabled": "admin_events_details_enabled",
    "attributes": "attributes",
}


def resolve_placeholders(text: str, env: Mapping[str, str]) -> str:
    """Replace `${NAME}` (or `${NAME:default}`) with the environment's value."""

    def value(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env:
            return json.dumps(env[name])[1:-1]
        if default is not None:
            return default
        raise KeyError(f"seed placeholder ${{{name}}} has no value")

    return PLACEHOLDER.sub(value, text)


def load_realm_file(path: Path, env: Mapping[str, str]) -> Realm:
    """A realm built from a realm-import JSON file."""
    return realm_from_json(json.loads(resolve_placeholders(path.read_text(), env)))


def realm_from_json(data: Mapping[str, Any]) -> Realm:
    """A realm built from a parsed realm representation."""
    settings = RealmSettings(name=str(data.get("realm", "offboard-test")))
    if "id" in data:
        settings.id = str(data["id"])
    for key, attribute in SETTINGS_KEYS.items():
        if key in data:
            setattr(settings, attribute, data[key])
    realm = Realm(settings)
    for client in data.get("clients", []):
        realm.add_client(
            Client(
                id=str(client.get("id") or uuid.uuid4()),
                client_id=client["clientId"],
                secret=client.get("secret"),
                public=bool(client.get("publicClient", False)),
                service_accounts=bool(client.get("serviceAccountsEnabled", False)),
                direct_grants=bool(client.get("directAccessGrantsEnabled", False)),
                token_lifespan=_lifespan(client.get("attributes", {})),
            )
        )
    add_groups(realm, data.get("groups", []), None)
    for user in data.get("users", []):
        realm.add_user(user_from_json(realm, user))
    return realm


def add_groups(realm: Realm, groups: Iterable[Mapping[str, Any]], parent_id: str | None) -> None:
    """Store `GroupRepresentation`s and, depth first, their `subGroups`."""
    for data in groups:
        group = realm.add_group(
            Group(
                id=str(data.get("id") or uuid.uuid4()),
                name=data["name"],
                parent_id=parent_id,
                attributes={k: list(v) for k, v in data.get("attributes", {}).items()},
            )
        )
        add_groups(realm, data.get("subGroups", []), group.id)


def _lifespan(attributes: Mapping[str, Any]) -> int | None:
    value = attributes.get("access.token.lifespan")
    return int(value) if value not in (None, "") else None


def user_from_json(realm: Realm, data: Mapping[str, Any]) -> User:
    """One `UserRepresentation` of an import file as an emulator user."""
    password = next(
        (c["value"] for c in data.get("credentials", []) if c.get("type") == "password"), None
    )
    group_ids = set()
    for path in data.get("groups", []):
        group = realm.group_by_path(str(path))
        if group is None:
            raise KeyError(f"user {data['username']!r} is in unknown group {path!r}")
        group_ids.add(group.id)
    roles = data.get("clientRoles", {}).get("realm-management", [])
    return User(
        id=str(data.get("id") or uuid.uuid4()),
        username=data["username"],
        created=int(data.get("createdTimestamp") or realm.now_ms()),
        enabled=bool(data.get("enabled", False)),
        email=data.get("email"),
        first_name=data.get("firstName"),
        last_name=data.get("lastName"),
        email_verified=bool(data.get("emailVerified", False)),
        attributes={k: list(v) for k, v in data.get("attributes", {}).items()},
        service_account_client_id=data.get("serviceAccountClientId"),
        federation_link=data.get("federationLink"),
        password=password,
        groups=group_ids,
        roles=frozenset(roles),
    )


def bulk_users(
    count: int, *, prefix: str = "user", domain: str = "example.test", disabled_every: int = 0
) -> Iterator[User]:
    """`count` plain users `{prefix}-{n:06d}`; every `disabled_every`-th one disabled."""
    created = 1_700_000_000_000
    bits = random.Random().getrandbits  # ids need to be unique and UUID-shaped, not secret
    for n in range(count):
        name = f"{prefix}-{n:06d}"
        raw = f"{bits(128):032x}"
        yield User(
            id=f"{raw[:8]}-{raw[8:12]}-4{raw[13:16]}-a{raw[17:20]}-{raw[20:32]}",
            username=name,
            created=created + n,
            enabled=not (disabled_every and n % disabled_every == 0),
            email=f"{name}@{domain}",
            first_name=prefix.capitalize(),
            last_name=f"N{n:06d}",
            email_verified=True,
        )


def add_bulk_users(realm: Realm, count: int, **options: Any) -> None:
    """Add `count` users in one go (100 000 in about a second)."""
    realm.add_users_sorted(bulk_users(count, **options))
