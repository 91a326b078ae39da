"""Build the real things (store, adapters, policy) from the settings; nothing else lives here."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from offboard.adapters.atlassian import AtlassianDirectory
from offboard.adapters.keycloak import KeycloakScope, KeycloakSource
from offboard.adapters.keycloak.confirmation import DEFAULT_REREAD_DELAY
from offboard.cli.flows import Wired
from offboard.ports import CheckResult, Clock, OffboardError, SystemClock
from offboard.settings import KeycloakSettings, Settings
from offboard.store import SqlStore, default_state_path, open_store


def store_location(settings: Settings | None, override: Path | None = None) -> Path | str:
    """``--store`` if given, else ``store.url``/``store.path``, else the default state file."""
    if override is not None:
        return override
    configured = settings.store.location() if settings is not None else None
    return configured if configured is not None else default_state_path()


def open_configured_store(settings: Settings | None, override: Path | None = None) -> SqlStore:
    """Open (and migrate) the store; StoreVersionError when a newer offboard wrote it."""
    return open_store(store_location(settings, override))


def keycloak_scope(settings: KeycloakSettings) -> KeycloakScope:
    """The adapter's scope from ``keycloak.scope_groups`` / ``keycloak.scope_attribute``."""
    scope = settings.scope
    attributes = dict([scope.attribute]) if scope.attribute else {}
    return KeycloakScope(group_paths=tuple(sorted(scope.groups)), attributes=attributes)


def verifying_transport(ca_bundle: Path | None = None) -> httpx.AsyncHTTPTransport:
    """A transport that verifies TLS; a private CA bundle is trusted on top of the system's."""
    context = ssl.create_default_context()
    if ca_bundle is not None:
        context.load_verify_locations(cafile=str(ca_bundle))
    return httpx.AsyncHTTPTransport(verify=context)


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
    settings: Settings, transport: httpx.AsyncBaseTransport | None = None
) -> AtlassianDirectory:
    """The Atlassian adapter (org key, plus the SCIM directory key when configured)."""
    at = settings.atlassian
    assert at.api_key is not None  # the settings refuse a configuration without it
    return AtlassianDirectory(
        org_id=at.org_id,
        org_key=at.api_key,
        base_url=at.base_url,
        directory_id=at.directory_id,
        scim_directory_id=at.scim_directory_id,
        scim_key=at.scim_api_key,
        rate_per_second=at.rate_limit_per_second,
        key_owner_account_id=at.key_owner_account_id,
        transport=transport,
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
    directory = build_directory(settings, atlassian_transport)
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


async def run_checks(settings: Settings) -> list[CheckResult]:
    """Every self-check: Keycloak, Atlassian, then the store."""
    results: list[CheckResult] = []
    async with build_source(settings) as source:
        results.extend(await _guarded("keycloak", source.self_check))
    async with build_directory(settings) as directory:
        results.extend(await _guarded("atlassian", directory.self_check))
    results.append(_store_check(settings))
    return results


async def _guarded(
    side: str, check: Callable[[], Awaitable[Sequence[CheckResult]]]
) -> Sequence[CheckResult]:
    """A self-check that raised becomes one FAIL line instead of a crash."""
    try:
        return await check()
    except (OffboardError, httpx.HTTPError) as exc:
        return [CheckResult(f"{side} reachable", False, str(exc), "check base_url and network")]


def _store_check(settings: Settings) -> CheckResult:
    location = store_location(settings)
    shown = location if isinstance(location, Path) else "store.url (redacted)"
    try:
        open_configured_store(settings).close()
    except OffboardError as exc:
        return CheckResult("store", False, str(exc), "upgrade offboard or point store elsewhere")
    except Exception as exc:
        return CheckResult("store", False, f"{shown}: {type(exc).__name__}", "check store.path")
    return CheckResult("store", True, f"{shown} opens at a supported version")
