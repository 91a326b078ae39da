"""Build the real things (store, adapters, policy) from the settings; nothing else lives here."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from offboard.adapters.atlassian import AtlassianDirectory
from offboard.adapters.http import PauseHook
from offboard.adapters.keycloak import KeycloakScope, KeycloakSource
from offboard.adapters.keycloak.confirmation import DEFAULT_REREAD_DELAY
from offboard.cli.credentials import credential_checks
from offboard.cli.flows import Wired
from offboard.core.accounts import KEY_OWNER_FACT
from offboard.ports import CheckResult, Clock, OffboardError, Store, SystemClock
from offboard.settings import KeycloakSettings, Settings
from offboard.store import (
    SqlStore,
    StoreMigrationPendingError,
    default_state_path,
    new_sqlite_file,
    open_store,
)
from offboard.store import shown as shown_location


def store_location(settings: Settings | None, override: str | None = None) -> Path | str:
    """``--store`` if given (a URL when it has ``scheme://``, else a file path), else
    ``store.url``/``store.path``, else the default state file."""
    if override is not None:
        return override
    configured = settings.store.location() if settings is not None else None
    return configured if configured is not None else default_state_path()


def open_configured_store(
    settings: Settings | None, override: str | None = None, *, read_only: bool = False
) -> SqlStore:
    """Open the store, or only read an existing one. An empty store gets the schema; an older
    one is upgraded only with ``store.auto_migrate``. StoreVersionError when a newer offboard
    wrote it, StoreLocationError when it is missing (reading) or foreign."""
    upgrade = settings.store.auto_migrate if settings is not None else False
    location = store_location(settings, override)
    created = None if read_only else new_sqlite_file(location)
    store = open_store(location, read_only=read_only, upgrade=upgrade)
    announce_created(created)
    return store


def announce_created(path: Path | None) -> None:
    """One line on stderr when a command made a new store file: a wrong store.path (or
    working directory) shows at once instead of as links, holds and budget gone missing."""
    if path is not None and path.exists():
        from offboard.cli.errors import stderr

        stderr.print(f"created a new store at {path}", markup=False)


def keycloak_scope(settings: KeycloakSettings) -> KeycloakScope:
    """The adapter's scope from ``keycloak.scope_groups`` / ``keycloak.scope_attribute``."""
    scope = settings.scope
    attributes = dict([scope.attribute]) if scope.attribute else {}
    return KeycloakScope(group_paths=tuple(sorted(scope.groups)), attributes=attributes)


def verifying_transport(ca_bundle: Path | None = None) -> httpx.AsyncBaseTransport:
    """A transport that verifies TLS; a private CA bundle is trusted on top of the system's.
    The clients' own pool (``adapters.transport``): the daemon's metered clients too. One
    context per bundle, shared by every client of the process (``adapters.trust``)."""
    from offboard.adapters.transport import pooled_transport  # httpcore: only when called
    from offboard.adapters.trust import system_trust

    return pooled_transport(system_trust(ca_bundle))


def build_source(
    settings: Settings,
    transport: httpx.AsyncBaseTransport | None = None,
    reread_delay: float | None = None,
    clock: Clock | None = None,
) -> KeycloakSource:
    """The Keycloak adapter; a private CA from ``keycloak.ca_bundle`` adds to the system's."""
    kc = settings.keycloak
    if transport is None and kc.ca_bundle is not None:
        transport = verifying_transport(kc.ca_bundle)
    assert kc.client_secret is not None  # the settings refuse a configuration without it
    return KeycloakSource(
        kc.base_url,
        kc.realm,
        kc.client_id,
        kc.client_secret,
        scope=keycloak_scope(kc),
        page_size=kc.page_size,
        transport=transport,
        clock=clock,
        timeout=kc.timeout,
        poll_interval=settings.daemon.poll_interval,
        reread_delay=DEFAULT_REREAD_DELAY if reread_delay is None else reread_delay,
    )


def build_directory(
    settings: Settings,
    transport: httpx.AsyncBaseTransport | None = None,
    store: Store | None = None,
    on_pause: PauseHook | None = None,
) -> AtlassianDirectory:
    """The Atlassian adapter (org key, plus the SCIM directory key when configured). The key
    owner is the configured one, else the one Atlassian named earlier (kept in ``store``)."""
    at = settings.atlassian
    key_owner = at.key_owner_account_id or (store.cursor(KEY_OWNER_FACT) if store else None)
    assert at.api_key is not None  # the settings refuse a configuration without it
    return AtlassianDirectory(
        org_id=at.org_id,
        org_key=at.api_key,
        base_url=at.base_url,
        directory_id=at.directory_id,
        scim_directory_id=at.scim_directory_id,
        scim_key=at.scim_api_key,
        rate_per_second=at.rate_limit_per_second,
        key_owner_account_id=key_owner,
        transport=transport,
        max_pause=at.max_rate_limit_pause.total_seconds(),
        on_pause=on_pause,
        directory_read=at.directory_read,
    )


@asynccontextmanager
async def connect(
    settings: Settings,
    *,
    store: SqlStore | None = None,
    keycloak_transport: httpx.AsyncBaseTransport | None = None,
    atlassian_transport: httpx.AsyncBaseTransport | None = None,
    reread_delay: float | None = None,
) -> AsyncIterator[Wired]:
    """Adapters, store, policy and clock for one command; everything closed at the end."""
    opened = store or open_configured_store(settings)
    source = build_source(settings, keycloak_transport, reread_delay)
    directory = build_directory(settings, atlassian_transport, opened)
    try:
        yield Wired(
            source,
            directory,
            opened,
            settings.policy_model(),
            SystemClock(),
            lease_ttl=settings.daemon.lease_ttl,
            reconfirm_after=settings.daemon.reconfirm_after,
        )
    finally:
        await source.aclose()
        await directory.aclose()
        if store is None:
            opened.close()


async def run_checks(settings: Settings, *, deep: bool = False) -> list[CheckResult]:
    """Every self-check: Keycloak, Atlassian, then the store; ``deep`` adds every read the
    adapters use and what it shows about offboard's assumptions (read-only)."""
    from offboard.cli.proxy_checks import route_checks

    results: list[CheckResult] = route_checks(settings)
    if not all(result.ok for result in results):
        return results  # an unusable proxy variable: every client would be refused
    async with build_source(settings) as source:
        results.extend(await _guarded("keycloak", source.self_check))
        if deep:
            results.extend(await _guarded("keycloak", source.deep_check))
    learned = _learned_key_owner(settings)
    async with build_directory(settings) as directory:
        if learned:
            directory.org.learn_key_owner(learned)
        results.extend(await _guarded("atlassian", directory.self_check))
        if deep:
            results.extend(await _guarded("atlassian", directory.deep_check))
        results.append(key_owner_check(settings, learned or directory.org.key_owner_account_id))
    results.extend(credential_checks(settings, SystemClock().now().date()))
    results.append(_store_check(settings))
    return results


def _learned_key_owner(settings: Settings) -> str | None:
    try:
        store = open_configured_store(settings)
    except Exception:  # the store check below says what is wrong with it
        return None
    try:
        return store.cursor(KEY_OWNER_FACT)
    finally:
        store.close()


def key_owner_check(settings: Settings, learned: str | None) -> CheckResult:
    """The API key's own account must be known to be protected (rule protected-key-owner)."""
    configured = settings.atlassian.key_owner_account_id
    if configured:
        return CheckResult("atlassian.key_owner", True, f"{configured} (configured)")
    if learned:
        return CheckResult("atlassian.key_owner", True, f"{learned} (named by Atlassian)")
    fix = (
        "set atlassian.key_owner_account_id to the account that created the org API key; "
        "until then it is learned only when Atlassian refuses an action on it"
    )
    detail = "unknown: the API key's own account is not protected yet"
    return CheckResult("atlassian.key_owner", True, detail, fix, warning=True)


async def _guarded(
    side: str, check: Callable[[], Awaitable[Sequence[CheckResult]]]
) -> Sequence[CheckResult]:
    """A self-check that raised becomes one FAIL line instead of a crash."""
    try:
        return await check()
    except httpx.HTTPError as exc:
        try:
            url = str(exc.request.url.copy_with(query=None))
        except RuntimeError:
            url = f"{side} base_url"
        detail = f"cannot connect to {url}: {type(exc).__name__}: {exc}"
        fix = f"check {side}.base_url (scheme, host, port), DNS, proxy and the firewall"
        return [CheckResult(f"{side} reachable", False, detail, fix)]
    except OffboardError as exc:
        return [CheckResult(f"{side} reachable", False, str(exc), f"check {side}.base_url")]


def _store_fix(error: OffboardError, location: Path | str | None) -> str:
    """What to do about a store that would not open, by what went wrong (never a password)."""
    from offboard.store.errors import StoreLocationError, StoreVersionError
    from offboard.store.paths import database_url

    if isinstance(error, StoreVersionError):
        return "upgrade offboard, or point store.path/store.url at a store this version wrote"
    if not isinstance(error, StoreLocationError):
        return "restore the store from a backup, or move it aside (the line above says how)"
    if isinstance(location, str) and "://" in location:
        try:
            url = database_url(location)
            where = f"{url.host or 'localhost'}:{url.port or 5432}"
        except StoreLocationError:
            where = "the host and port in store.url"
        return (
            f"check that PostgreSQL is running and reachable at {where}, and that the "
            "database and its user exist (store.url)"
        )
    return "check store.path (or --store): a file offboard can create and write"


def _store_check(settings: Settings) -> CheckResult:
    location = store_location(settings)
    shown = location if isinstance(location, Path) else shown_location(location)
    try:
        open_configured_store(settings).close()
    except StoreMigrationPendingError as exc:
        return CheckResult("store", False, str(exc), "offboard store migrate (after a backup)")
    except OffboardError as exc:
        return CheckResult("store", False, str(exc), _store_fix(exc, location))
    except Exception as exc:
        detail = f"{shown}: {type(exc).__name__}"
        return CheckResult("store", False, detail, "check store.path or store.url")
    return CheckResult("store", True, f"{shown} opens at a supported version")
