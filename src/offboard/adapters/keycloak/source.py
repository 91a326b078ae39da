"""``KeycloakSource``: the ``IdentitySource`` port over Keycloak's Admin REST API."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta

import httpx
from pydantic import SecretStr

from offboard.adapters.circuit import CircuitBreaker
from offboard.adapters.http import build_client
from offboard.adapters.keycloak.auth import ClientCredentialsAuth
from offboard.adapters.keycloak.confirmation import (
    DEFAULT_CONFIRM_READS,
    DEFAULT_REREAD_DELAY,
    Confirmer,
    Sleep,
)
from offboard.adapters.keycloak.events import EventPoller, event_query_check
from offboard.adapters.keycloak.listing import UserLister, WalkSettings
from offboard.adapters.keycloak.requests import AdminReader
from offboard.adapters.keycloak.scope import KeycloakScope
from offboard.adapters.keycloak.selfcheck import SelfChecker
from offboard.adapters.keycloak.skew import clock_check
from offboard.core.identities import Identity, IdentityId
from offboard.core.snapshots import SnapshotKind, SourceSnapshot
from offboard.ports import CheckResult, Clock, IdentityEvent, Progress, SystemClock


class KeycloakSource:
    """Reads one realm's users, confirms leavers one by one, and polls its events.

    ``page_size`` brief users per listing request, up to ``concurrency`` requests in flight;
    ``transport`` replaces the network (tests, emulators); ``clock`` dates snapshots and starts
    the event cursor; ``event_overlap`` is how far each poll reaches back before its cursor;
    ``poll_interval`` is what the self-check compares event retention with;
    ``confirm_reads`` fresh reads, ``reread_delay`` seconds apart, must all show a disable
    before it counts as confirmed (see ``confirmation``).
    Use as an async context manager (or call ``aclose``) so the connection pool is released.
    """

    def __init__(
        self,
        base_url: str,
        realm: str,
        client_id: str,
        client_secret: SecretStr,
        *,
        scope: KeycloakScope | None = None,
        page_size: int = 1000,
        concurrency: int = 4,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        timeout: float = 30.0,
        event_overlap: timedelta = timedelta(minutes=2),
        poll_interval: timedelta = timedelta(seconds=30),
        reread_delay: float = DEFAULT_REREAD_DELAY,
        confirm_reads: int = DEFAULT_CONFIRM_READS,
        sleep: Sleep | None = None,
    ) -> None:
        if page_size < 1 or concurrency < 1:
            raise ValueError("page_size and concurrency must be at least 1")
        base = base_url.rstrip("/")
        self.realm_url = f"{base}/admin/realms/{realm}"
        self._clock = clock or SystemClock()
        self.auth = ClientCredentialsAuth(
            f"{base}/realms/{realm}/protocol/openid-connect/token",
            client_id,
            client_secret,
            wall=lambda: self._clock.now().timestamp(),  # the clock events are compared with
        )
        self.breaker = CircuitBreaker("Keycloak")
        self._client = build_client(
            base,
            auth=self.auth,
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=10.0),
            breaker=self.breaker,
        )
        self.reader = AdminReader(self._client, self.realm_url)
        self.scope = scope or KeycloakScope()
        self._lister = UserLister(self.reader, self.scope, WalkSettings(page_size, concurrency))
        confirm_kwargs = {"sleep": sleep} if sleep is not None else {}
        self._confirmer = Confirmer(
            self.reader,
            self.scope,
            reread_delay=reread_delay,
            confirm_reads=confirm_reads,
            page_size=page_size,
            **confirm_kwargs,
        )
        self._events = EventPoller(
            self.reader,
            now=self._clock.now,
            overlap=event_overlap,
            group_scope=bool(self.scope.group_paths),
            keycloak_behind=lambda: self.auth.keycloak_behind,
            attribute_scope=bool(self.scope.attributes),
        )
        self._checker = SelfChecker(
            self.reader,
            lambda: self.auth.fetch(self._client),
            client_id=client_id,
            scope=self.scope,
            poll_interval=poll_interval,
        )

    async def snapshot(self, *, progress: Progress | None = None) -> SourceSnapshot:
        """Every in-scope identity; ``complete=False`` with problems on a partial read."""
        taken_at = self._clock.now()
        listing = await self._lister.list(progress)
        return SourceSnapshot(
            identities=tuple(listing.identities.values()),
            taken_at=taken_at,
            complete=not listing.problems,
            kind=SnapshotKind.FULL,
            user_count=listing.user_count,
            problems=tuple(listing.problems),
            source=f"{self.realm_url} ({self.scope.describe()})",
        )

    async def read_identity(self, identity_id: IdentityId) -> Identity | None:
        return await self._confirmer.read_identity(identity_id)

    async def confirm(
        self, snapshot: SourceSnapshot, candidates: Iterable[IdentityId]
    ) -> SourceSnapshot:
        return await self._confirmer.confirm(snapshot, candidates)

    async def events_since(self, cursor: str | None) -> tuple[Sequence[IdentityEvent], str | None]:
        return await self._events.events_since(cursor)

    async def self_check(self) -> Sequence[CheckResult]:
        """The checks of the service account and realm, and whether the server takes the
        event queries the poller sends (Keycloak 26.2+), said even when it does not."""
        results = await self._checker.run()
        if any(r.name == "token" and not r.ok for r in results):
            return results
        return [*results, await event_query_check(self.reader, self._clock.now())]

    @property
    def realm_id(self) -> str | None:
        """The realm's internal id, once a check has read the realm or a poll has read an
        event (None before)."""
        return self._checker.realm_id or self._events.realm_id

    async def intake_check(self) -> Sequence[CheckResult]:
        """Whether the realm still saves the events the poller reads (see ``SelfChecker``),
        and whether Keycloak's clock is close to ours."""
        return [*await self._checker.intake(), clock_check(self.auth.keycloak_behind)]

    async def deep_check(self) -> Sequence[CheckResult]:
        """Read-only extras for ``config check --deep`` (the event query check is always run)."""
        return []

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> KeycloakSource:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
