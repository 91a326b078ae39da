"""Reads by id: 404 vs 403, brute-force lockouts, the serial re-read, and ``confirm``."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

import httpx
import pytest

from offboard.adapters.keycloak import AccessDeniedError, KeycloakScope, KeycloakSource
from offboard.adapters.keycloak.casting import identity_from_listing
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
    assert reads.count(f"users/{ids[0]}") == 4  # duplicates read once, then 3 confirming reads


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
    listings = [r for r in fake.requests if r.url.path.endswith("/users")]
    assert {r.url.params["enabled"] for r in listings} == {"false"}
    assert len(listings) == 3 * 3  # three rounds of three pages of 10, not 75 reads by id
    assert all(fake.paths("users/").count(f"users/{i}") == 1 for i in disabled)


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


async def test_the_disabled_listing_is_counted_during_the_first_pause_not_before_it(
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

    assert seen_while_pausing[0] == ["users/count"]  # the first pause, with the count beside it
    assert seen_while_pausing[1:] == [[], []]  # the other pauses: nothing at all
    counted = [r for r in fake.requests if r.url.path.endswith("/users/count")]
    assert [r.url.params["enabled"] for r in counted] == ["false"]


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
    fake.users = [user(n, enabled=False) for n in range(4)]
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
        await source.confirm(snapshot, [i.id for i in snapshot.identities])

    assert peak["users"] == 1, "two reads of users overlapped"
    assert peak["brute-force"] > 1
    assert peak["both"] > 1
