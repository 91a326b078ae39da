"""Who a Keycloak id is, for humans: the name and email Keycloak holds, read when shown.

The store keeps ids and emails, not names; the console reads the few people a page shows
from Keycloak by id (at most ``per_page`` per page, a few at a time) and remembers them
for ``ttl``. A failed read shows the email the store holds, never an error page.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from offboard.core.identities import IdentityId
from offboard.ports import Clock, IdentitySource, OffboardError

_KEYCLOAK_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
"""Keycloak ids are UUIDs (36 characters) in practice; nothing longer or odder is looked up."""


@dataclass(frozen=True, slots=True)
class Name:
    name: str
    email: str | None


class NameBook:
    """A bounded, expiring memory of names by Keycloak id."""

    def __init__(
        self,
        source: IdentitySource | None,
        clock: Clock,
        *,
        ttl: timedelta = timedelta(hours=1),
        per_page: int = 100,
        keep: int = 10_000,
    ) -> None:
        self._source = source
        self._clock = clock
        self._ttl = ttl
        self._per_page = per_page
        self._keep = keep
        self._known: dict[str, tuple[datetime, Name | None]] = {}

    async def names(self, ids: Iterable[str | None]) -> dict[str, Name]:
        """The names of ``ids`` known now, reading (a bounded number of) the others first.

        Only what can be a Keycloak id is read: a page asked for with any text never sends
        that text to Keycloak."""
        wanted = list(dict.fromkeys(i for i in ids if i and _KEYCLOAK_ID.fullmatch(i)))
        now = self._clock.now()
        missing = [i for i in wanted if i not in self._known or self._known[i][0] < now]
        if self._source is not None and missing:
            limit = asyncio.Semaphore(4)
            await asyncio.gather(*(self._read(i, limit) for i in missing[: self._per_page]))
        found = {}
        for identity_id in wanted:
            entry = self._known.get(identity_id)
            if entry is not None and entry[1] is not None:
                found[identity_id] = entry[1]
        return found

    async def _read(self, identity_id: str, limit: asyncio.Semaphore) -> None:
        assert self._source is not None
        async with limit:
            try:
                identity = await self._source.read_identity(IdentityId(identity_id))
            except (OffboardError, httpx.HTTPError, httpx.InvalidURL, ValueError):
                return  # shown by the email the store holds; read again next time
        name = None
        if identity is not None:
            name = Name(identity.display_name or identity.username, identity.email)
        if len(self._known) >= self._keep:
            self._known.clear()  # simple and bounded: the next pages read again
        self._known[identity_id] = (self._clock.now() + self._ttl, name)
