"""The complete, scoped user listing behind ``KeycloakSource.snapshot``.

Realm scope: ``users/count`` before and after, brief pages walked concurrently by offset. The
unfiltered listing leaves service-account users out, so they are read by a second, filtered
query and flagged with their client id. Group scope: each path resolved to an id, its members paged.
Attribute scope: the same walk with ``q=key:value``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import quote

from offboard.adapters.keycloak.casting import identity_from_listing
from offboard.adapters.keycloak.paging import walk_pages
from offboard.adapters.keycloak.requests import AdminReader, Query, seg
from offboard.adapters.keycloak.scope import KeycloakScope
from offboard.adapters.keycloak.wire import COUNT, GROUP, USERS
from offboard.core.identities import Identity, IdentityId
from offboard.ports import OffboardError, Progress

SERVICE_ACCOUNT_PREFIX = "service-account-"
"""Keycloak names a client's service-account user ``service-account-<client id>``."""


@dataclass(slots=True)
class Listing:
    """Identities found, the count read around the walk, and the problems met."""

    identities: dict[IdentityId, Identity] = field(default_factory=dict)
    user_count: int | None = None
    problems: list[str] = field(default_factory=list)
    requests: int = 0

    def add(self, identities: Sequence[Identity]) -> None:
        """Add identities; one found again (another group, a repeated page) unions its groups."""
        for identity in identities:
            known = self.identities.get(identity.id)
            if known is not None and not identity.groups <= known.groups:
                identity = replace(identity, groups=known.groups | identity.groups)
            self.identities[identity.id] = identity


@dataclass(frozen=True, slots=True)
class WalkSettings:
    """How hard a walk pushes the server."""

    page_size: int = 1000
    """Brief users per request: 1000 was fastest on a 10k realm (benchmarks/bench_keycloak.py)."""
    concurrency: int = 4
    count_tolerance: int = 5
    """Users created or deleted during a walk that are still a clean read."""


class UserLister:
    """Reads every in-scope user; problems are collected, never raised."""

    def __init__(self, reader: AdminReader, scope: KeycloakScope, settings: WalkSettings) -> None:
        self._reader = reader
        self._scope = scope
        self._settings = settings

    async def list(self, progress: Progress | None = None) -> Listing:
        listing = Listing()
        if self._scope.group_paths:
            for path in self._scope.group_paths:
                await self._list_group(path, listing, progress)
        else:
            await self._list_filtered(listing, progress)
        return listing

    async def _list_filtered(self, listing: Listing, progress: Progress | None) -> None:
        query: dict[str, str] = {"q": self._scope.query} if self._scope.query else {}
        before = await self._count(query, listing)
        await self._walk(
            "users",
            {**query, "briefRepresentation": True},
            listing,
            progress,
            before,
            vouched=self._scope.attributes,
        )
        listed = len(listing.identities)
        if not query:
            await self._add_service_accounts(listing)
        after = await self._count(query, listing)
        listing.user_count = after
        self._check_counts(before, after, listed, listing)

    async def _list_group(self, path: str, listing: Listing, progress: Progress | None) -> None:
        try:
            group = await self._reader.read(
                f"group-by-path/{quote(path.strip('/'), safe='/')}", GROUP
            )
        except OffboardError as error:
            listing.problems.append(f"group {path!r} could not be resolved: {error}")
            return
        members_path = f"groups/{seg(group.id)}/members"
        await self._walk(
            members_path,
            {"briefRepresentation": True},
            listing,
            progress,
            None,
            group.path or "/" + path.strip("/"),
        )

    async def _walk(
        self,
        path: str,
        query: Query,
        listing: Listing,
        progress: Progress | None,
        expected: int | None,
        group: str | None = None,
        concurrency: int | None = None,
        vouched: Mapping[str, str] | None = None,
    ) -> None:
        groups = (group,) if group else ()

        async def fetch(offset: int, limit: int) -> list[Identity]:
            # Cast at once, so a page's wire models are garbage before the next page lands.
            users = await self._reader.read(path, USERS, {**query, "first": offset, "max": limit})
            return [identity_from_listing(user, groups, vouched) for user in users]

        size = self._settings.page_size
        # With a count in hand, a walk never asks past count + tolerance: a realm that grew
        # further ends the walk without a short page, which is reported as incomplete.
        tolerated = (expected or 0) + self._settings.count_tolerance
        max_pages = tolerated // size + 1 if expected is not None else 10**6
        walk = await walk_pages(
            fetch,
            key=lambda identity: identity.id,
            page_size=size,
            concurrency=concurrency or self._settings.concurrency,
            max_pages=max_pages,
            progress=progress,
            expected=expected,
        )
        listing.requests += walk.requests
        listing.problems.extend(walk.problems(f"listing {path}", size))
        listing.add(walk.items)

    async def _add_service_accounts(self, listing: Listing) -> None:
        # Keycloak 26 leaves service accounts out of the unfiltered listing and out of
        # users/count, and shows no serviceAccountClientId in list or by-id reads. A filtered
        # query does include them: whoever it finds that the unfiltered walk did not list is a
        # client's service account, named service-account-<client id>.
        found = Listing()
        query: Query = {"username": SERVICE_ACCOUNT_PREFIX, "briefRepresentation": True}
        await self._walk("users", query, found, None, None, concurrency=1)  # usually one page
        listing.problems.extend(found.problems)
        listing.requests += found.requests
        for identity in found.identities.values():
            if identity.id in listing.identities:
                continue
            client_id = identity.service_account_client_id or identity.username.removeprefix(
                SERVICE_ACCOUNT_PREFIX
            )
            listing.identities[identity.id] = replace(identity, service_account_client_id=client_id)

    async def _count(self, query: Query, listing: Listing) -> int | None:
        listing.requests += 1
        try:
            return await self._reader.read("users/count", COUNT, query)
        except OffboardError as error:
            listing.problems.append(f"users/count could not be read: {error}")
            return None

    def _check_counts(
        self, before: int | None, after: int | None, listed: int, listing: Listing
    ) -> None:
        if before is None or after is None:
            return
        tolerance = self._settings.count_tolerance
        if abs(after - before) > tolerance:
            listing.problems.append(
                f"users/count moved from {before} to {after} during the walk "
                f"(more than {tolerance}); read again when the realm is quieter"
            )
        # No tolerance here: fewer users than the lower count means a deletion during the
        # walk shifted the offsets and someone was skipped.
        if listed < min(before, after):
            # query-users without view-users counts everyone and lists no one.
            hidden = " (Keycloak lists users only to view-users)" if listed == 0 else ""
            listing.problems.append(
                f"the walk listed {listed} users but users/count says {min(before, after)}" + hidden
            )
