"""One confirming round for many users at once: the listing of disabled users.

Re-reading a thousand disabled leavers one by one costs a thousand requests per round.
``GET users?enabled=false`` filters on the stored flag and answers the same question for
all of them in a page or a few. A user confirmed this way must be both in that listing and
shown there as ``enabled: false``. Anyone the listing leaves out (deleted, enabled again,
or skipped by a page that failed or shifted) is read by id as before, so the listing can
only save requests, never decide a case by its absence. After a page fails, the remaining
rounds read by id. Its pages take the same turns as reads by id (exchange only, parsed
after); its size is counted during the first round's pause, beside it.
"""

from __future__ import annotations

import asyncio

from offboard.adapters.keycloak.requests import AdminReader, Query, QueryValue
from offboard.adapters.keycloak.scope import KeycloakScope
from offboard.adapters.keycloak.wire import COUNT, USERS
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

    async def disabled_now(
        self, pages: int, lock: asyncio.Lock
    ) -> tuple[frozenset[IdentityId], bool]:
        """Ids the listing shows disabled now, and whether every page could be read.

        Pages are read one at a time under ``lock``, and the walk stops at the first page
        that fails (after its retries): a server that slow is better asked by id, not paged.
        """
        seen: set[IdentityId] = set()
        query: Query = {**self._query, "briefRepresentation": True}
        # One page more than the count asked for: a few users disabled since then fit in it.
        for page in range(pages + 1):
            window = {"first": page * self._page_size, "max": self._page_size}
            prepared = self._reader.prepare("users", {**query, **window})
            try:
                async with lock:  # the exchange only: the page is parsed after the turn
                    body = await self._reader.exchange(prepared)
                users = self._reader.parse(prepared.path, body, USERS)
            except OffboardError:
                return frozenset(seen), False
            seen.update(IdentityId(user.id) for user in users if not user.enabled)
            if len(users) < self._page_size:
                break
        return frozenset(seen), True
