"""Reads of users take turns for the whole exchange with Keycloak, and only for that.

Keycloak issue 40689: overlapping reads of users have returned spurious ``enabled: false``.
A read builds its request before its turn and parses the answer after it, so these tests
watch the wire: a turn opens when a user's request (or a page of the disabled listing)
reaches the server and closes only when its whole answer has been read, retries included.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import httpx
from pydantic import SecretStr

from offboard.adapters.keycloak import KeycloakSource
from offboard.core.identities import IdentityId
from tests.adapters.keycloak.fake import ADMIN, BASE, REALM, SECRET, FakeKeycloak, user


def admin_path(request: httpx.Request) -> str:
    return request.url.path.removeprefix(ADMIN.rstrip("/")).lstrip("/")


def takes_a_turn(request: httpx.Request) -> bool:
    """A read of one user by id, or a page of the listing of disabled users."""
    path = admin_path(request)
    by_id = path.startswith("users/") and path.count("/") == 1 and path != "users/count"
    return by_id or (path == "users" and "enabled" in request.url.params)


class _SlowBody(httpx.AsyncByteStream):
    """An answer's body that arrives a little late; ``read`` runs once it is all read."""

    def __init__(self, content: bytes, read: Callable[[], None], delay: float) -> None:
        self._content, self._read, self._delay = content, read, delay

    async def __aiter__(self) -> AsyncIterator[bytes]:
        await asyncio.sleep(self._delay)
        yield self._content
        self._read()


@dataclass
class WireWatch(httpx.AsyncBaseTransport):
    """The fake Keycloak behind a transport that records turns as the server sees them."""

    fake: FakeKeycloak
    open_turn: str | None = None
    overlaps: list[tuple[str, str]] = field(default_factory=list)
    """(turn open, request that arrived during it): must stay empty."""
    sent: list[str] = field(default_factory=list)
    """Admin paths in the order their requests reached the server."""
    in_flight: int = 0
    peak_beside_a_turn: int = 0
    """Most other requests in flight as a turn opened or during one: the test does overlap."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0)
        path = admin_path(request)
        self.sent.append(path)
        turn = takes_a_turn(request)
        key = f"{path}?{request.url.query.decode()}"
        if turn:
            if self.open_turn is not None and self.open_turn != key:
                self.overlaps.append((self.open_turn, key))
            self.open_turn = key
        else:
            self.in_flight += 1
            if self.open_turn is not None:
                self.peak_beside_a_turn = max(self.peak_beside_a_turn, self.in_flight)
        answer = self.fake.handle(request)
        await asyncio.sleep(0.001)
        return httpx.Response(
            answer.status_code,
            headers=answer.headers,
            stream=_SlowBody(
                answer.content,
                lambda: self._answered(turn, key, answer.status_code),
                0.002 if turn else 0.004,
            ),
        )

    def _answered(self, turn: bool, key: str, status: int) -> None:
        """The whole answer was read: the turn closes (unless a 503 is to be retried)."""
        if not turn:
            self.in_flight -= 1
        elif status != 503 and self.open_turn == key:
            self.open_turn = None


def watched_source(fake: FakeKeycloak, watch: WireWatch) -> KeycloakSource:
    async def no_pause(_seconds: float) -> None:
        return None

    return KeycloakSource(
        BASE, REALM, "offboard", SecretStr(SECRET), transport=watch, page_size=5, sleep=no_pause
    )


async def test_no_two_reads_of_users_overlap_on_the_wire_across_callers_and_retries(
    fake: FakeKeycloak,
) -> None:
    fake.users = [user(n, enabled=n % 3 != 0) for n in range(24)]
    disabled = [IdentityId(u["id"]) for u in fake.users if not u["enabled"]]
    gone = IdentityId(user(99)["id"])
    read_alone = [disabled[5], IdentityId(fake.users[1]["id"])]
    watch = WireWatch(fake)

    async with watched_source(fake, watch) as source:
        snapshot = await source.snapshot()
        # First answers 503, retried within their turns: reads by id, a page of the listing.
        fake.failing.update({f"users/{i}?first=": 1 for i in [gone, *read_alone]})
        fake.failing["users?first=5"] = 1
        confirmed, *alone = await asyncio.gather(
            source.confirm(snapshot, [*disabled, gone]),
            *(source.read_identity(identity_id) for identity_id in read_alone),
        )

    assert watch.overlaps == []
    assert all(fake.failing[key] == 0 for key in fake.failing), "every 503 was retried"
    assert watch.peak_beside_a_turn >= 1, "lockout checks ran beside the turns"
    listing_walks = [r for r in fake.requests if admin_path(r) == "users" and takes_a_turn(r)]
    # The first read and 3 rounds, 2 pages each, and the page answered 503 once.
    assert len(listing_walks) == 4 * 2 + 1
    assert gone in confirmed.deleted
    assert {i.id for i in confirmed.identities if i.disable_confirmed} == set(disabled)
    assert all(identity is not None for identity in alone)


async def test_a_turn_is_passed_on_before_the_lockout_check_of_the_user_just_read(
    fake: FakeKeycloak,
) -> None:
    """The reads of users are the critical path: the next one leaves first."""
    # Many more disabled users than asked about: the listing would cost more than it spares.
    fake.users = [user(n, enabled=False) for n in range(8 + 100)]
    ids = [IdentityId(u["id"]) for u in fake.users[:8]]
    watch = WireWatch(fake)

    async with watched_source(fake, watch) as source:
        await source.confirm(await source.snapshot(), ids)

    order = watch.sent
    for this, following in itertools.pairwise(ids):
        assert order.index(f"users/{following}") < order.index(
            f"attack-detection/brute-force/users/{this}"
        )


@dataclass
class LockoutChecksWatch(httpx.AsyncBaseTransport):
    """Notes each confirming read by id (a user's second read by id or later) that reached
    the server while a brute-force or group read was still in flight."""

    fake: FakeKeycloak
    seen: set[str] = field(default_factory=set)
    beside: int = 0
    overlapped: list[str] = field(default_factory=list)
    confirming: int = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = admin_path(request)
        params = request.url.params
        if path == "users" and "enabled" in params and params["briefRepresentation"] == "true":
            # The rounds' walks fail: their users are read by id instead.
            return httpx.Response(403, json={"error": "HTTP 403 Forbidden"})
        other = path.startswith("attack-detection/") or path.endswith("/groups")
        if takes_a_turn(request) and path != "users":
            if path in self.seen:
                self.confirming += 1
                if self.beside:
                    self.overlapped.append(path)
            self.seen.add(path)
        self.beside += other
        try:
            await asyncio.sleep(0.02 if other else 0.001)  # lockout checks are the slow ones
            return self.fake.handle(request)
        finally:
            self.beside -= other


async def test_confirming_reads_by_id_wait_for_every_first_read_of_the_batch(
    fake: FakeKeycloak,
) -> None:
    """The listed users' rounds start while the others are read by id; a confirming read by
    id (here: after a page of the listing failed) still waits for the batch's first reads,
    lockout checks included, so nothing of the batch overlaps it."""
    listed = [user(n, enabled=False) for n in range(12)]
    spurious = [user(n) for n in range(20, 26)]  # stored enabled, read by id as disabled once
    fake.users = listed + spurious
    for one in spurious:
        fake.reads[one["id"]] = [{**one, "enabled": False}, one]
    watch = LockoutChecksWatch(fake)
    ids = [IdentityId(u["id"]) for u in fake.users]

    async with watched_source(fake, watch) as source:  # type: ignore[arg-type]
        snapshot = await source.snapshot()
        confirmed = await source.confirm(snapshot, ids)

    assert watch.confirming >= len(listed) + len(spurious)
    assert watch.overlapped == []
    by_id = {i.id: i for i in confirmed.identities}
    assert all(by_id[IdentityId(u["id"])].disable_confirmed for u in listed)
    assert not any(by_id[IdentityId(u["id"])].disable_confirmed for u in spurious)
