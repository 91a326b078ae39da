"""One confirming round for many users at once: the listing of disabled users.

Re-reading a thousand disabled leavers one by one costs a thousand requests per round.
``GET users?enabled=false`` filters on the stored flag and answers the same question for
all of them in a page or a few. A user confirmed this way must be both in that listing and
shown there as ``enabled: false``. Anyone the listing leaves out (deleted, enabled again,
or skipped by a page that failed or shifted) is read by id as before, so the listing can
only save requests, never decide a case by its absence.
"""

from __future__ import annotations

import asyncio

from offboard.adapters.keycloak.paging import walk_pages
from offboard.adapters.keycloak.requests import AdminReader, Query, QueryValue
from offboard.adapters.keycloak.scope import KeycloakScope
from offboard.adapters.keycloak.wire import COUNT, USERS, UserRep
from offboard.core.identities import IdentityId
from offboard.ports import OffboardError


class DisabledListing:
    """Pages of ``users?enabled=false`` (the scope's ``q`` too), walked one at a time."""

    def __init__(self, reader: AdminReader, scope: KeycloakScope, page_size: int) -> None:
        self._reader = reader
        query: dict[str, QueryValue] = {"enabled": False}
        if scope.query:
            query["q"] = scope.query
        self._query: Query = query
        self._page_size = page_size

    async def pages_needed(self) -> int | None:
        """Requests one walk will take, from ``users/count``; None when it cannot be read."""
        try:
            count = await self._reader.read("users/count", COUNT, self._query)
        except OffboardError:
            return None
        return count // self._page_size + 1

    async def disabled_now(self, pages: int, lock: asyncio.Lock) -> frozenset[IdentityId]:
        """Ids the listing shows disabled now; pages are read serially under ``lock``."""

        async def fetch(offset: int, limit: int) -> list[UserRep]:
            query: Query = {**self._query, "briefRepresentation": True}
            async with lock:
                return await self._reader.read(
                    "users", USERS, {**query, "first": offset, "max": limit}
                )

        walk = await walk_pages(
            fetch,
            key=lambda user: user.id,
            page_size=self._page_size,
            concurrency=1,
            max_pages=pages + 1,  # a few users disabled since the count fit in one more page
        )
        return frozenset(IdentityId(user.id) for user in walk.items if not user.enabled)
