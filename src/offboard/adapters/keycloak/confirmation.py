"""Reads by id that turn a listing's hints into facts: disabled for real, or gone (404).

Reads by id never overlap, even across concurrent callers (the daemon re-checks several
users at once): concurrent reads have returned spurious ``enabled: false`` (Keycloak issue
40689). They take turns: a turn covers the whole exchange with Keycloak, from the request
sent to its answer read in full, retries included; the request is built before the turn and
the answer parsed after it, and the next user's read leaves before this user's lockout
check (the turns are the critical path). A disable is confirmed only when
``confirm_reads`` further fresh reads, in rounds a pause apart, all still say
``enabled: false`` and brute force does not explain it. With a share p of spurious reads,
a stayer is taken for a leaver with p to the power of the reads.
The pause is paid once per round, not once per user, so a thousand leavers cost seconds.
When the listing of disabled users holds few enough users per read it spares
(``USERS_PER_READ``), the first read and each round read that listing instead (see
``disabled_listing``); it is counted once, before the first reads.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Collection, Container, Iterable, Mapping

from offboard.adapters.circuit import UnreachableError
from offboard.adapters.keycloak.attribute_filter import vouched_attributes
from offboard.adapters.keycloak.casting import identity_from_read, is_permanently_locked
from offboard.adapters.keycloak.disabled_listing import DisabledListing
from offboard.adapters.keycloak.requests import AdminReader, seg
from offboard.adapters.keycloak.scope import KeycloakScope
from offboard.adapters.keycloak.wire import BRUTE_FORCE, GROUPS, REALM, USER, UserRep
from offboard.core.identities import Identity, IdentityId, Lockout
from offboard.core.snapshots import SourceSnapshot
from offboard.ports import NotFoundError, OffboardError

Sleep = Callable[[float], Awaitable[None]]
Listed = Mapping[IdentityId, UserRep]
"""Users as the listing of disabled users showed them, in full."""
DEFAULT_REREAD_DELAY = 0.2
"""Seconds between confirming rounds: long enough to leave a concurrent read behind."""
DEFAULT_CONFIRM_READS = 3
FIRST_READS_AT_ONCE = 4
"""Users in their first read at once: their reads by id still take turns (the lock), while
their groups and brute-force state are read beside them."""
USERS_PER_READ = 10
"""The listing of disabled users replaces reads by id only when it holds at most this many
users per read it spares: on Keycloak 26.7.3 a full page of 1,000 disabled users cost as
much as 12 to 17 of them per read by id (114 to 168 ms against 1.5 to 2.8 ms; a brute-force
read about as much again), ``benchmarks/bench_disabled_listing.py``."""
LISTING_MIN_READS = 4
"""Fewer reads than this are cheap anyway: not even the listing's size is read for them."""


class Confirmer:
    """Fresh, serial reads of single users with lockout checked."""

    def __init__(
        self,
        reader: AdminReader,
        scope: KeycloakScope,
        *,
        reread_delay: float = DEFAULT_REREAD_DELAY,
        confirm_reads: int = DEFAULT_CONFIRM_READS,
        page_size: int = 1000,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if confirm_reads < 1:
            raise ValueError("a disable needs at least one confirming read")
        self._reader = reader
        self._scope = scope
        self._reread_delay = reread_delay
        self._confirm_reads = confirm_reads
        self._sleep = sleep
        self._one_read_at_a_time = asyncio.Lock()
        self._disabled = DisabledListing(reader, scope, page_size)

    async def read_identity(self, identity_id: IdentityId) -> Identity | None:
        """The user as it is now; None only on 404. 403 and the rest raise."""
        fresh, failures = await self._read_and_confirm([identity_id])
        if identity_id in failures:
            raise failures[identity_id]
        return fresh[identity_id]

    async def confirm(
        self, snapshot: SourceSnapshot, candidates: Iterable[IdentityId]
    ) -> SourceSnapshot:
        """A copy of the snapshot with each candidate re-read (serially) and 404s in ``deleted``."""
        identities = {identity.id: identity for identity in snapshot.identities}
        deleted = set(snapshot.deleted)
        problems = list(snapshot.problems)
        fresh_reads, failures = await self._read_and_confirm(list(dict.fromkeys(candidates)))
        for identity_id, error in failures.items():
            problems.append(f"re-read of user {identity_id} failed, left unconfirmed: {error}")
        for identity_id, fresh in fresh_reads.items():
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

    async def _read_and_confirm(
        self, identity_ids: list[IdentityId]
    ) -> tuple[dict[IdentityId, Identity | None], dict[IdentityId, OffboardError]]:
        """Read each user once, then re-read the apparently disabled ones in rounds.

        The users the listing of disabled users showed start their rounds at once, while the
        others are read by id: the rounds' pauses pass during those reads (a deletion's 404
        needs no rounds), and every read of a user still takes its turn. A confirming read
        by id still waits for every first read to be done, with the lockout and group reads
        beside them: none of the batch's reads overlaps it. The listing needs no such wait:
        it filters on the stored flag, which no concurrent read can make a stayer's."""
        fresh: dict[IdentityId, Identity | None] = {}
        failures: dict[IdentityId, OffboardError] = {}
        # For a batch, one realm read can spare a brute-force read per user. It is read beside
        # the first reads, which need its answer only once their user is read.
        realm = None
        if len(identity_ids) > 1:
            realm = asyncio.create_task(self._realm_locks_users_out())
        try:
            count = None
            if len(identity_ids) >= LISTING_MIN_READS:
                count = await self._disabled.count()  # no read of a user: no turn
            listing = _Listing(self._disabled, self._one_read_at_a_time, count)
            listed = await listing.read(identity_ids, brief=False)  # attributes: lockout
            in_listing = [i for i in identity_ids if i in listed]
            by_id = [i for i in identity_ids if i not in listed]

            first_reads_left = [2]  # the two groups' first reads, each done once
            all_read = asyncio.Event()

            async def read_and_confirm(ids: list[IdentityId], found: Listed) -> None:
                await self._first_reads(ids, realm, found, fresh, failures)
                first_reads_left[0] -= 1
                if not first_reads_left[0]:
                    all_read.set()
                await self._confirming_rounds(ids, listing, all_read, fresh, failures)

            async with asyncio.TaskGroup() as group:
                group.create_task(read_and_confirm(in_listing, listed))
                group.create_task(read_and_confirm(by_id, {}))
        finally:
            if realm is not None:
                realm.cancel()  # done by now, unless the first reads themselves failed
        in_order = {i: fresh[i] for i in identity_ids if i in fresh}  # as asked, duplicates once
        return in_order, failures

    async def _confirming_rounds(
        self,
        identity_ids: list[IdentityId],
        listing: _Listing,
        all_read: asyncio.Event,
        fresh: dict[IdentityId, Identity | None],
        failures: dict[IdentityId, OffboardError],
    ) -> None:
        """The rounds, a pause apart, that the apparently disabled of these users must pass;
        ``all_read`` is set once the batch's first reads are all done."""
        pending = [i for i in identity_ids if (read := fresh.get(i)) and _may_be_disabled(read)]
        for _ in range(self._confirm_reads):
            if not pending:
                break
            await self._sleep(self._reread_delay)
            still_listed = await listing.read(pending, brief=True)
            if any(i not in still_listed for i in pending):
                await all_read.wait()  # reads by id: nothing may overlap them
            pending = await self._confirming_round(pending, still_listed, fresh, failures)
        for identity_id in pending:
            identity = fresh[identity_id]
            assert identity is not None  # pending holds only users read as present
            fresh[identity_id] = dataclasses.replace(identity, disable_confirmed=True)

    async def _first_reads(
        self,
        identity_ids: list[IdentityId],
        realm: asyncio.Task[bool] | None,
        listed: Listed,
        fresh: dict[IdentityId, Identity | None],
        failures: dict[IdentityId, OffboardError],
    ) -> None:
        """Each user read once, in ``fresh`` in the order asked: as ``listed`` (the listing
        of disabled users) shows them, or else by id.

        The reads of users stay one at a time (the lock); a user's groups and brute-force
        state are read while the next user is: they are other endpoints, and a spurious
        answer there only makes a user a candidate for the confirming rounds (whose reads
        by id wait for all of these) or shows a lockout, which holds the action back. A
        listed user needs no brute-force read (``_stored_lockout``).
        """
        slots = asyncio.Semaphore(FIRST_READS_AT_ONCE)
        down: list[UnreachableError] = []
        read: dict[IdentityId, Identity | None] = {}

        async def first_read(identity_id: IdentityId) -> None:
            async with slots:
                if down:  # Keycloak is known down: every further read would fail the same way
                    failures[identity_id] = down[0]
                    return
                try:
                    listed_user = listed.get(identity_id)
                    read[identity_id] = await self._first_read(identity_id, realm, listed_user)
                except UnreachableError as error:
                    down.append(error)
                    failures[identity_id] = error
                except OffboardError as error:
                    failures[identity_id] = error

        async with asyncio.TaskGroup() as group:
            for identity_id in identity_ids:
                group.create_task(first_read(identity_id))
        fresh.update((i, read[i]) for i in identity_ids if i in read)

    async def _confirming_round(
        self,
        pending: list[IdentityId],
        listed: Container[IdentityId],
        fresh: dict[IdentityId, Identity | None],
        failures: dict[IdentityId, OffboardError],
    ) -> list[IdentityId]:
        """Who still reads as disabled: in the listing of disabled users, or read by id."""
        still = [identity_id for identity_id in pending if identity_id in listed]
        unreachable: UnreachableError | None = None
        for identity_id in (i for i in pending if i not in listed):
            try:
                if unreachable is not None:
                    raise unreachable  # known down: no read, same verdict
                again = await self._read_user(identity_id)
            except OffboardError as error:
                if isinstance(error, UnreachableError):
                    unreachable = error
                failures[identity_id] = error
                del fresh[identity_id]
                continue
            if again is None or again.enabled:  # gone, or the disabled read was spurious
                fresh[identity_id] = _reread(again, fresh[identity_id], self._scope)
            else:
                still.append(identity_id)
        return still

    async def _first_read(
        self,
        identity_id: IdentityId,
        realm: asyncio.Task[bool] | None,
        listed: UserRep | None = None,
    ) -> Identity | None:
        """One fresh read with groups and lockout; never confirms a disable by itself.

        ``realm`` tells whether the realm locks users out (None: take it that it does);
        ``listed`` is the user as the listing of disabled users just showed them, in full.
        """
        if listed is not None:
            groups = await self._scoped_groups(identity_id)
            return identity_from_read(
                listed,
                lockout=_stored_lockout(listed),
                disable_confirmed=False,
                groups=groups,
                vouched=await self._scoped_attributes(listed),
            )
        user = await self._read_user(identity_id)
        if user is None:
            return None
        groups = await self._scoped_groups(identity_id)
        # Shielded: one reader cancelled must not cancel the realm read the others wait on.
        lockouts = realm is None or await asyncio.shield(realm)
        # Checked for enabled users too: Keycloak 26.7.3 shows a temporarily locked user as
        # enabled (older 26.x showed it as disabled), and the lockout is worth knowing either way.
        lockout = await self._lockout(user, lockouts)
        vouched = await self._scoped_attributes(user)
        return identity_from_read(
            user, lockout=lockout, disable_confirmed=False, groups=groups, vouched=vouched
        )

    async def _read_user(self, identity_id: IdentityId) -> UserRep | None:
        """One read by id, taking its turn for the exchange with Keycloak only.

        The request is built before the turn comes and the answer parsed after it is passed
        on. Right after, this task steps aside once so that the next user's read leaves
        before this user's parsing and lockout check: the turns are the critical path.
        """
        prepared = self._reader.prepare(f"users/{seg(identity_id)}")
        try:
            async with self._one_read_at_a_time:
                body = await self._reader.exchange(prepared)
        except NotFoundError:
            return None
        await asyncio.sleep(0)
        return self._reader.parse(prepared.path, body, USER)

    async def _realm_locks_users_out(self) -> bool:
        """Whether the realm has brute-force protection on; unreadable counts as on.

        Keycloak shows ``bruteForceProtected`` even in the slim answer a caller without
        ``view-realm`` gets. With protection off nobody is locked out for failed logins.
        """
        try:
            realm = await self._reader.read("", REALM)
        except OffboardError:
            return True
        return realm.bruteForceProtected

    async def _lockout(self, user: UserRep, realm_locks_users_out: bool) -> Lockout:
        """The user's brute-force state: temporarily locked, permanently locked, or neither."""
        if not user.enabled and is_permanently_locked(user):
            # Checked first: during a permanent lockout brute force also answers
            # ``disabled: true`` (measured on 26.7.3), which alone would read as temporary.
            return Lockout.PERMANENT
        if not realm_locks_users_out:
            return Lockout.NONE
        try:
            status = await self._reader.read(
                f"attack-detection/brute-force/users/{seg(user.id)}", BRUTE_FORCE
            )
        except OffboardError:
            return Lockout.UNKNOWN
        return Lockout.TEMPORARY if status.disabled else Lockout.NONE

    async def _scoped_attributes(self, user: UserRep) -> Mapping[str, str]:
        """Scope attribute values the read hides but Keycloak's filter finds (see
        ``attribute_filter``): without them a re-check would read the user out of scope."""
        return await vouched_attributes(
            self._reader, self._scope, user.id, user.username, user.attributes
        )

    async def _scoped_groups(self, identity_id: IdentityId) -> frozenset[str]:
        """The configured groups the user is in now (group scope only)."""
        if not self._scope.group_paths:
            return frozenset()
        wanted = {"/" + path.strip("/") for path in self._scope.group_paths}
        groups = await self._reader.read(
            f"users/{seg(identity_id)}/groups", GROUPS, {"briefRepresentation": True, "max": 1000}
        )
        return frozenset(group.path for group in groups if group.path in wanted)


@dataclasses.dataclass
class _Listing:
    """The listing of disabled users for one batch: read instead of reads by id whenever it
    holds at most ``USERS_PER_READ`` users per read it spares; dropped after a page fails."""

    disabled: DisabledListing
    lock: asyncio.Lock
    count: int | None
    """Users in the listing when the batch began; None once it is known to be of no use."""

    async def read(
        self, wanted: Collection[IdentityId], *, brief: bool
    ) -> dict[IdentityId, UserRep]:
        """Those of ``wanted`` the listing shows disabled (brief or in full), when reading it
        spares reading them by id; else none."""
        if self.count is None or not self._worth(len(wanted)):
            return {}
        users, whole = await self.disabled.walk(self.count, self.lock, set(wanted), brief=brief)
        self.count = self.count if whole else None
        return users

    def _worth(self, reads: int) -> bool:
        # An empty listing spares nothing: everyone would still be read by id.
        return self.count is not None and 0 < self.count <= USERS_PER_READ * reads


def _stored_lockout(listed: UserRep) -> Lockout:
    """The lockout behind a disable the listing of disabled users shows: that listing filters
    on the flag Keycloak stores, which a temporary lockout never sets (contract-tested), so
    only a permanent lockout can explain it, and its reason is in the attributes."""
    return Lockout.PERMANENT if is_permanently_locked(listed) else Lockout.NONE


def _may_be_disabled(identity: Identity) -> bool:
    """Disabled, and not by a (possible) temporary lockout: worth confirming."""
    return not identity.enabled and identity.lockout not in (Lockout.TEMPORARY, Lockout.UNKNOWN)


def _reread(again: UserRep | None, first: Identity | None, scope: KeycloakScope) -> Identity | None:
    """A re-read that contradicts the disable: gone (None) or enabled, with what we knew
    (its scope groups, and the scope attribute values the first read found)."""
    if again is None or first is None:
        return None
    vouched = {k: v for k, v in scope.attributes.items() if v in first.attributes.get(k, ())}
    return identity_from_read(
        again, lockout=first.lockout, disable_confirmed=False, groups=first.groups, vouched=vouched
    )


def _keep_service_account_flag(fresh: Identity, known: Identity | None) -> Identity:
    """A read by id does not show ``serviceAccountClientId``; the listing found it out."""
    if fresh.is_service_account or known is None or not known.is_service_account:
        return fresh
    return dataclasses.replace(fresh, service_account_client_id=known.service_account_client_id)
