"""Reads by id: 404 vs 403, brute-force lockouts, the serial re-read, and ``confirm``."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

import httpx
import pytest

from offboard.adapters.keycloak import AccessDeniedError, KeycloakScope, KeycloakSource
from offboard.adapters.keycloak.casting import identity_from_listing
from offboard.adapters.keycloak.disabled_listing import DisabledListing
from offboard.adapters.keycloak.wire import UserRep
from offboard.core.identities import IdentityId, Lockout
from offboard.core.snapshots import SourceSnapshot
from offboard.ports import TemporaryError
from tests.adapters.keycloak.conftest import make_source
from tests.adapters.keycloak.fake import ADMIN, FakeKeycloak, user

ALICE = user(1)
ALICE_ID = IdentityId(ALICE["id"])


async def test_an_enabled_user_reads_as_enabled_with_its_lockout_checked(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    fake.users = [ALICE]

    identity = await source.read_identity(ALICE_ID)

    assert identity is not None
    assert identity.enabled
    assert identity.lockout is Lockout.NONE
    assert fake.paths("attack-detection") == [f"attack-detection/brute-force/users/{ALICE_ID}"]
    assert fake.paths("users/") == [f"users/{ALICE_ID}"]  # no re-read for enabled users


async def test_an_enabled_user_can_be_temporarily_locked(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    fake.users = [ALICE]  # Keycloak 26.7.3 shows a locked user as enabled
    fake.brute_force[ALICE_ID] = {"disabled": True}

    identity = await source.read_identity(ALICE_ID)

    assert identity is not None
    assert identity.enabled
    assert identity.lockout is Lockout.TEMPORARY
    assert not identity.disable_confirmed


async def test_a_404_is_a_confirmed_deletion(fake: FakeKeycloak, source: KeycloakSource) -> None:
    assert await source.read_identity(ALICE_ID) is None


async def test_a_403_is_an_error_never_a_deletion(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    fake.forbidden = {"users/"}

    with pytest.raises(AccessDeniedError, match="403"):
        await source.read_identity(ALICE_ID)


async def test_a_disable_is_confirmed_by_three_further_serial_reads(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    fake.users = [{**ALICE, "enabled": False}]

    identity = await source.read_identity(ALICE_ID)

    assert identity is not None
    assert not identity.enabled
    assert identity.disable_confirmed
    assert identity.lockout is Lockout.NONE
    assert fake.paths()[-5:] == [
        f"users/{ALICE_ID}",
        f"attack-detection/brute-force/users/{ALICE_ID}",
        f"users/{ALICE_ID}",
        f"users/{ALICE_ID}",
        f"users/{ALICE_ID}",
    ]


async def test_a_disable_contradicted_by_the_last_confirming_read_is_not_confirmed(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    disabled = {**ALICE, "enabled": False}
    fake.reads[ALICE_ID] = [disabled, disabled, disabled, ALICE]  # Keycloak issue 40689

    identity = await source.read_identity(ALICE_ID)

    assert identity is not None
    assert identity.enabled
    assert not identity.disable_confirmed


async def test_the_pause_between_reads_is_paid_per_round_not_per_user(
    fake: FakeKeycloak,
) -> None:
    fake.users = [{**user(n), "enabled": False} for n in range(5)]
    pauses: list[float] = []

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)

    async with make_source(fake, sleep=sleep, reread_delay=0.2) as source:
        snapshot = await source.snapshot()
        confirmed = await source.confirm(snapshot, [i.id for i in snapshot.identities])

    assert all(i.disable_confirmed for i in confirmed.identities if not i.is_service_account)
    assert pauses == [0.2, 0.2, 0.2]


async def test_a_spurious_disable_does_not_survive_the_re_read(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    fake.reads[ALICE_ID] = [{**ALICE, "enabled": False}, ALICE]  # Keycloak issue 40689

    identity = await source.read_identity(ALICE_ID)

    assert identity is not None
    assert identity.enabled
    assert not identity.disable_confirmed


async def test_a_temporary_lockout_is_not_a_disable(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    fake.users = [{**ALICE, "enabled": False}]
    fake.brute_force[ALICE_ID] = {"disabled": True, "numFailures": 3}

    identity = await source.read_identity(ALICE_ID)

    assert identity is not None
    assert identity.lockout is Lockout.TEMPORARY
    assert not identity.disable_confirmed


async def test_a_permanent_lockout_is_a_confirmed_disable_marked_permanent(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    locked = {**ALICE, "enabled": False, "attributes": {"disabledReason": ["permanentLockout"]}}
    fake.users = [locked]
    fake.brute_force[ALICE_ID] = {"disabled": True}  # as 26.7.3 answers during the lockout

    identity = await source.read_identity(ALICE_ID)

    assert identity is not None
    assert identity.lockout is Lockout.PERMANENT
    assert identity.disable_confirmed


async def test_a_failed_brute_force_check_leaves_the_disable_unconfirmed(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    fake.users = [{**ALICE, "enabled": False}]
    fake.forbidden = {"attack-detection"}

    identity = await source.read_identity(ALICE_ID)

    assert identity is not None
    assert identity.lockout is Lockout.UNKNOWN
    assert not identity.disable_confirmed


async def test_confirm_replaces_removes_and_adds(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    bob, carol, dave = user(2), user(3), user(4)
    robot = user(9, username="service-account-bot", email=None)
    fake.users = [{**bob, "enabled": False}, dave, robot]  # carol is gone, dave was not listed
    listed = SourceSnapshot(
        identities=(
            *(identity_from_listing(UserRep.model_validate(u)) for u in (ALICE, bob, carol)),
            replace(
                identity_from_listing(UserRep.model_validate(robot)),
                service_account_client_id="bot",
            ),
        ),
        taken_at=datetime(2026, 11, 28, tzinfo=UTC),
        complete=True,
    )
    ids = [IdentityId(u["id"]) for u in (bob, carol, dave, robot)]

    confirmed = await source.confirm(listed, [*ids, ids[0]])

    by_id = {i.id: i for i in confirmed.identities}
    assert by_id[ids[0]].disable_confirmed
    assert not by_id[ids[0]].enabled
    assert ids[1] in confirmed.deleted
    assert ids[1] not in by_id
    assert by_id[ids[2]].username == "user4"  # turned up outside the listing
    assert by_id[ids[3]].service_account_client_id == "bot"  # kept from the listing
    assert ALICE_ID in by_id
    assert confirmed.complete
    reads = fake.paths("users/")
    # Four users against one disabled: each read, duplicates once, is the listing of disabled
    # users (in full first), and only those it leaves out are read by id.
    assert reads.count(f"users/{ids[0]}") == 0
    assert [r.url.params["briefRepresentation"] for r in _listings(fake)] == [
        "false", "true", "true", "true"
    ]  # fmt: skip
    assert sorted(reads) == sorted(["users/count", *(f"users/{i}" for i in ids[1:])])


async def test_confirm_records_a_failed_read_and_leaves_the_identity_alone(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    fake.failing[f"users/{ALICE_ID}?first="] = 99
    listed = SourceSnapshot(
        identities=(), taken_at=datetime(2026, 11, 28, tzinfo=UTC), complete=True
    )

    confirmed = await source.confirm(listed, [ALICE_ID])

    assert confirmed.identities == ()
    assert confirmed.deleted == frozenset()
    assert any(ALICE_ID in p and "unconfirmed" in p for p in confirmed.problems)


async def test_group_scope_reads_carry_the_configured_groups_the_user_is_in(
    fake: FakeKeycloak,
) -> None:
    fake.users = [ALICE]

    def groups(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/groups"):
            found = [
                {"id": "1", "name": "staff", "path": "/staff"},
                {"id": "2", "name": "x", "path": "/other"},
            ]
            return httpx.Response(200, json=found)
        return None

    fake.override = groups
    async with make_source(fake, scope=KeycloakScope(group_paths=("staff",))) as source:
        identity = await source.read_identity(ALICE_ID)

    assert identity is not None
    assert identity.groups == {"/staff"}


async def test_a_server_that_keeps_failing_is_an_error_never_a_deletion(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    fake.failing[f"users/{ALICE_ID}?first="] = 99

    with pytest.raises(TemporaryError, match="503"):
        await source.read_identity(ALICE_ID)


async def test_an_unreadable_user_is_an_error_and_confirm_carries_on(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    bob = user(2, enabled=False)
    fake.users = [{"id": ALICE_ID, "username": "alice"}, bob]  # alice's "enabled" is missing
    listed = SourceSnapshot(
        identities=(), taken_at=datetime(2026, 11, 28, tzinfo=UTC), complete=True
    )

    confirmed = await source.confirm(listed, [ALICE_ID, IdentityId(bob["id"])])

    assert [i.id for i in confirmed.identities] == [bob["id"]]
    assert any(ALICE_ID in p and "unreadable" in p for p in confirmed.problems)


async def _confirm_all(
    fake: FakeKeycloak, source: KeycloakSource, failing: dict[str, int] | None = None
) -> SourceSnapshot:
    snapshot = await source.snapshot()
    fake.requests.clear()
    fake.failing.update(failing or {})
    return await source.confirm(snapshot, [i.id for i in snapshot.identities])


async def test_many_disabled_users_are_confirmed_by_the_listing_of_disabled_users(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    fake.users = [user(n, enabled=False) for n in range(25)] + [user(n) for n in range(25, 40)]

    confirmed = await _confirm_all(fake, source)

    disabled = {i.id for i in confirmed.identities if i.disable_confirmed}
    assert disabled == {IdentityId(user(n)["id"]) for n in range(25)}
    listings = _listings(fake)
    assert {r.url.params["enabled"] for r in listings} == {"false"}
    # The first read and three rounds, each three pages of 10: not 100 reads by id.
    assert len(listings) == 4 * 3
    brief = [r.url.params["briefRepresentation"] for r in listings]
    assert brief == ["false"] * 3 + ["true"] * 9  # the first read needs the attributes
    assert not [i for i in disabled if f"users/{i}" in fake.paths("users/")]


async def test_a_permanent_lockout_shows_in_the_listing_of_disabled_users(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    reason = {"disabledReason": ["permanentLockout"]}
    fake.users = [user(n, enabled=False) for n in range(24)]
    fake.users.append(user(24, enabled=False, attributes=reason))

    confirmed = await _confirm_all(fake, source)

    locked = next(i for i in confirmed.identities if i.username == "user24")
    assert locked.lockout is Lockout.PERMANENT
    assert locked.disable_confirmed
    assert f"users/{locked.id}" not in fake.paths("users/")  # seen in the listing, in full
    others = [i for i in confirmed.identities if i.id != locked.id]
    assert all(i.lockout is Lockout.NONE and i.disable_confirmed for i in others)


@pytest.mark.parametrize(("disabled", "listed"), [(50, True), (51, False)])
async def test_the_listing_is_read_only_when_it_holds_few_users_per_read_it_spares(
    fake: FakeKeycloak, source: KeycloakSource, disabled: int, listed: bool
) -> None:
    fake.users = [user(n, enabled=False) for n in range(disabled)]
    asked = [IdentityId(u["id"]) for u in fake.users[:5]]  # 5 reads: at most 50 users

    confirmed = await source.confirm(await source.snapshot(), asked)

    assert all(i.disable_confirmed for i in confirmed.identities if i.id in asked)
    walks = [r for r in _listings(fake) if r.url.params.get("enabled") == "false"
             and r.url.params["first"] == "0"]  # fmt: skip
    by_id = [p for p in fake.paths("users/") if p != "users/count"]
    assert len(walks) == (4 if listed else 0)
    assert len(by_id) == (0 if listed else 5 * 4)


async def test_the_listing_keeps_only_the_users_asked_about(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    """Full representations can be large: a walk keeps the batch's users, not the realm's."""
    fake.users = [user(n, enabled=False) for n in range(30)] + [user(30)]
    listing = DisabledListing(source.reader, KeycloakScope(), page_size=10)
    wanted = {IdentityId(fake.users[n]["id"]) for n in (3, 17, 29, 30)}  # 30 is enabled

    users, whole = await listing.walk(30, asyncio.Lock(), wanted, brief=False)

    assert whole
    assert set(users) == wanted - {IdentityId(fake.users[30]["id"])}


def _listings(fake: FakeKeycloak) -> list[httpx.Request]:
    return [r for r in fake.requests if r.url.path.endswith("/users")]


async def test_a_user_the_disabled_listing_leaves_out_is_read_by_id(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    fake.users = [user(n, enabled=False) for n in range(2, 27)] + [ALICE]
    fake.reads[ALICE_ID] = [{**ALICE, "enabled": False}, ALICE]  # one spurious read (40689)

    confirmed = await _confirm_all(fake, source)

    by_id = {i.id: i for i in confirmed.identities}
    assert by_id[ALICE_ID].enabled
    assert not by_id[ALICE_ID].disable_confirmed
    assert fake.paths("users/").count(f"users/{ALICE_ID}") == 2
    assert sum(i.disable_confirmed for i in by_id.values()) == 25


async def test_a_failed_page_of_the_disabled_listing_hands_over_to_reads_by_id(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    fake.users = [user(n, enabled=False) for n in range(25)]

    confirmed = await _confirm_all(fake, source, failing={"users?first=10": 99})

    assert all(i.disable_confirmed for i in confirmed.identities)
    on_failed_page = fake.users[15]["id"]  # 10 is also the look-ahead item of page 0
    assert fake.paths("users/").count(f"users/{on_failed_page}") == 1 + 3
    first_pages = [r for r in fake.requests if r.url.path.endswith("/users")
                   and r.url.params["first"] == "0"]  # fmt: skip
    assert len(first_pages) == 1  # after a failed page, the later rounds read by id


async def test_the_disabled_listing_is_counted_once_before_the_first_reads(
    fake: FakeKeycloak,
) -> None:
    fake.users = [user(n, enabled=False) for n in range(25)]
    seen_while_pausing: list[list[str]] = []

    async def sleep(_seconds: float) -> None:
        before = len(fake.requests)
        await asyncio.sleep(0.01)
        seen_while_pausing.append(fake.paths()[before:])

    async with make_source(fake, sleep=sleep, page_size=10) as source:
        await _confirm_all(fake, source)

    assert seen_while_pausing == [[], [], []]  # the pauses: nothing at all
    counted = [r for r in fake.requests if r.url.path.endswith("/users/count")]
    assert [r.url.params["enabled"] for r in counted] == ["false"]
    paths = fake.paths()
    assert paths.index("users/count") < paths.index("users")  # the walk's size known first


async def test_one_pending_user_is_read_by_id_without_counting_the_disabled(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    fake.users = [{**ALICE, "enabled": False}] + [user(n, enabled=False) for n in range(2, 30)]

    await source.confirm(await source.snapshot(), [ALICE_ID])

    counts = [r for r in fake.requests if r.url.path.endswith("/users/count")]
    assert all("enabled" not in r.url.params for r in counts)


@pytest.mark.parametrize(("protected", "checks"), [(False, 0), (True, 3), (None, 3)])
async def test_a_realm_without_brute_force_protection_spares_the_lockout_checks(
    fake: FakeKeycloak, source: KeycloakSource, protected: bool | None, checks: int
) -> None:
    fake.users = [user(n, enabled=False) for n in range(2, 5)]
    fake.brute_force_protected = protected  # None: a realm answer without the field

    confirmed = await _confirm_all(fake, source)

    assert len(fake.paths("attack-detection")) == checks
    assert all(i.disable_confirmed and i.lockout is Lockout.NONE for i in confirmed.identities)


async def test_the_realm_is_read_beside_the_first_reads_of_users(fake: FakeKeycloak) -> None:
    fake.users = [user(n, enabled=False) for n in range(3)]  # too few for the listing
    fake.brute_force_protected = False
    events: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix(ADMIN.rstrip("/"))
        events.append(f"sent {path}")
        if path == "":
            await asyncio.sleep(0.02)  # a slow realm read: the users need not wait for it
            events.append("realm answered")
        return fake.handle(request)

    async with make_source(fake) as source:
        snapshot = await source.snapshot()
        source.reader._client._transport = httpx.MockTransport(handler)
        confirmed = await source.confirm(snapshot, [i.id for i in snapshot.identities])

    first_user = next(i for i, e in enumerate(events) if e.startswith("sent /users/"))
    assert events.index("sent ") < first_user < events.index("realm answered")
    assert not fake.paths("attack-detection")  # its answer still spared the lockout checks
    assert all(i.disable_confirmed for i in confirmed.identities)


async def test_a_single_read_checks_the_lockout_without_reading_the_realm(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    fake.users = [{**ALICE, "enabled": False}]
    fake.brute_force_protected = False

    await source.read_identity(ALICE_ID)

    assert "" not in fake.paths()
    assert len(fake.paths("attack-detection")) == 1


async def test_an_unreadable_realm_counts_as_protected(
    fake: FakeKeycloak, source: KeycloakSource
) -> None:
    fake.users = [user(n, enabled=False) for n in range(2, 5)]
    fake.forbidden = {""}

    confirmed = await _confirm_all(fake, source)

    assert len(fake.paths("attack-detection")) == 3
    assert all(i.disable_confirmed for i in confirmed.identities)


async def test_reads_of_users_take_turns_while_lockout_checks_run_beside_them(
    fake: FakeKeycloak,
) -> None:
    """Keycloak issue 40689: overlapping reads of users return spurious ``enabled:false``.
    Only those reads must take turns; a user's brute-force state is another endpoint."""
    fake.users = [{**user(n), "enabled": False} for n in range(12)]
    asked = [IdentityId(u["id"]) for u in fake.users]
    # Read by id: a listing of 212 disabled users would cost more than 12 reads by id.
    fake.users += [{**user(n), "enabled": False} for n in range(100, 300)]
    in_flight = {"users": 0, "brute-force": 0}
    peak = {"users": 0, "brute-force": 0, "both": 0}

    async def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        kind = "brute-force" if "attack-detection" in path else "users"
        by_id = kind == "brute-force" or path.rstrip("/").split("/")[-2] == "users"
        if by_id:
            in_flight[kind] += 1
            peak[kind] = max(peak[kind], in_flight[kind])
            peak["both"] = max(peak["both"], sum(in_flight.values()))
            await asyncio.sleep(0.006 if kind == "brute-force" else 0.002)
            in_flight[kind] -= 1
        return fake.handle(request)

    async def no_pause(_seconds: float) -> None:
        return None

    async with make_source(fake, sleep=no_pause) as source:
        snapshot = await source.snapshot()
        source.reader._client._transport = httpx.MockTransport(handler)
        await source.confirm(snapshot, asked)

    assert peak["users"] == 1, "two reads of users overlapped"
    assert peak["brute-force"] > 1
    assert peak["both"] > 1
