"""Reads by id that turn a listing's hints into facts: disabled for real, or gone (404).

Reads are serial on purpose: concurrent reads of the same realm have returned spurious
``enabled: false`` (Keycloak issue 40689). A disable is confirmed only when a second read,
after a short pause, still says ``enabled: false`` and brute force does not explain it.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Iterable

from offboard.adapters.keycloak.casting import identity_from_read, is_permanently_locked
from offboard.adapters.keycloak.requests import AdminReader
from offboard.adapters.keycloak.scope import KeycloakScope
from offboard.adapters.keycloak.wire import BRUTE_FORCE, GROUPS, USER, UserRep
from offboard.core.identities import Identity, IdentityId, Lockout
from offboard.core.snapshots import SourceSnapshot
from offboard.ports import NotFoundError, OffboardError

Sleep = Callable[[float], Awaitable[None]]


class Confirmer:
    """Fresh, serial reads of single users with lockout checked."""

    def __init__(
        self,
        reader: AdminReader,
        scope: KeycloakScope,
        *,
        reread_delay: float = 0.5,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._reader = reader
        self._scope = scope
        self._reread_delay = reread_delay
        self._sleep = sleep

    async def read_identity(self, identity_id: IdentityId) -> Identity | None:
        """The user as it is now; None only on 404. 403 and the rest raise."""
        user = await self._read_user(identity_id)
        if user is None:
            return None
        groups = await self._scoped_groups(identity_id)
        # Checked for enabled users too: Keycloak 26.7.3 shows a temporarily locked user as
        # enabled (older 26.x showed it as disabled), and the lockout is worth knowing either way.
        lockout = await self._lockout(user)
        if user.enabled or lockout in (Lockout.TEMPORARY, Lockout.UNKNOWN):
            return identity_from_read(user, lockout=lockout, disable_confirmed=False, groups=groups)
        await self._sleep(self._reread_delay)
        again = await self._read_user(identity_id)
        if again is None:
            return None
        confirmed = not again.enabled
        return identity_from_read(
            again, lockout=lockout, disable_confirmed=confirmed, groups=groups
        )

    async def confirm(
        self, snapshot: SourceSnapshot, candidates: Iterable[IdentityId]
    ) -> SourceSnapshot:
        """A copy of the snapshot with each candidate re-read (serially) and 404s in ``deleted``."""
        identities = {identity.id: identity for identity in snapshot.identities}
        deleted = set(snapshot.deleted)
        problems = list(snapshot.problems)
        for identity_id in dict.fromkeys(candidates):
            try:
                fresh = await self.read_identity(identity_id)
            except OffboardError as error:
                problems.append(f"re-read of user {identity_id} failed, left unconfirmed: {error}")
                continue
            if fresh is None:
                identities.pop(identity_id, None)
                deleted.add(identity_id)
            else:
                known = identities.get(identity_id)
                identities[identity_id] = _keep_service_account_flag(fresh, known)
                deleted.discard(identity_id)
        return dataclasses.replace(
            snapshot,
            identities=tuple(identities.values()),
            deleted=frozenset(deleted),
            problems=tuple(problems),
        )

    async def _read_user(self, identity_id: IdentityId) -> UserRep | None:
        try:
            return await self._reader.read(f"users/{identity_id}", USER)
        except NotFoundError:
            return None

    async def _lockout(self, user: UserRep) -> Lockout:
        """The user's brute-force state: temporarily locked, permanently locked, or neither."""
        if not user.enabled and is_permanently_locked(user):
            # Checked first: during a permanent lockout brute force also answers
            # ``disabled: true`` (measured on 26.7.3), which alone would read as temporary.
            return Lockout.PERMANENT
        try:
            status = await self._reader.read(
                f"attack-detection/brute-force/users/{user.id}", BRUTE_FORCE
            )
        except OffboardError:
            return Lockout.UNKNOWN
        return Lockout.TEMPORARY if status.disabled else Lockout.NONE

    async def _scoped_groups(self, identity_id: IdentityId) -> frozenset[str]:
        """The configured groups the user is in now (group scope only)."""
        if not self._scope.group_paths:
            return frozenset()
        wanted = {"/" + path.strip("/") for path in self._scope.group_paths}
        groups = await self._reader.read(
            f"users/{identity_id}/groups", GROUPS, {"briefRepresentation": True, "max": 1000}
        )
        return frozenset(group.path for group in groups if group.path in wanted)


def _keep_service_account_flag(fresh: Identity, known: Identity | None) -> Identity:
    """A read by id does not show ``serviceAccountClientId``; the listing found it out."""
    if fresh.is_service_account or known is None or not known.is_service_account:
        return fresh
    return dataclasses.replace(fresh, service_account_client_id=known.service_account_client_id)
