"""Many users read at once: the listing of disabled users.

Re-reading a thousand disabled leavers one by one costs a thousand requests per read.
``GET users?enabled=false`` filters on the stored flag and answers the same question for
all of them in a page or a few; neither a lockout nor a wrong read under load (Keycloak
issue 40689) puts a stayer in it. A user read this way must be both in that listing and
shown there as ``enabled: false``. Anyone the listing leaves out (deleted, enabled again,
or skipped by a page that failed or shifted) is read by id as before, so the listing can
only save requests, never decide a case by its absence. After a page fails, the remaining
reads go by id. Its pages take the same turns as reads by id (exchange only, parsed after).

The first read of a batch takes the full representations (attributes show a permanent
lockout); the confirming rounds only need the ids, and take the brief ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import Container

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

    async def count(self) -> int | None:
        """How many users the listing holds, from ``users/count``; None when unreadable."""
        try:
            return await self._reader.read("users/count", COUNT, self._query)
        except OffboardError:
            return None

    async def walk(
        self, count: int, lock: asyncio.Lock, wanted: Container[IdentityId], *, brief: bool
    ) -> tuple[dict[IdentityId, UserRep], bool]:
        """Those of ``wanted`` the listing shows disabled now (brief or in full), and whether
        every page could be read. Pages are read one at a time under ``lock``; the walk stops
        at the first page that fails (after its retries): a server that slow is better asked
        by id, not paged. Only the ``wanted`` users are kept: full representations can be
        large."""
        seen: dict[IdentityId, UserRep] = {}
        query: Query = {**self._query, "briefRepresentation": brief}
        # One page more than the count asks for: a few users disabled since then fit in it.
        for page in range(count // self._page_size + 2):
            window = {"first": page * self._page_size, "max": self._page_size}
            prepared = self._reader.prepare("users", {**query, **window})
            try:
                async with lock:  # the exchange only: the page is parsed after the turn
                    body = await self._reader.exchange(prepared)
                users = self._reader.parse(prepared.path, body, USERS)
            except OffboardError:
                return seen, False
            for user in users:
                if not user.enabled and (user_id := IdentityId(user.id)) in wanted:
                    seen[user_id] = user
            if len(users) < self._page_size:
                break
        return seen, True
