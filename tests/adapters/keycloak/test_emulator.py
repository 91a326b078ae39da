"""``KeycloakSource`` against the Keycloak emulator, in process (httpx ASGI transport).

The emulator is seeded with the real server's test realm (see tests/contract/targets.py), so
these scenarios mirror test_real_keycloak.py; the emulator's faults add what a real server
does only rarely (spurious ``enabled: false``, deletions during paging).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from offboard.adapters.keycloak import KeycloakScope, KeycloakSource
from offboard.core.identities import IdentityId, Lockout
from offboard_emulators.keycloak.app import create_app
from offboard_emulators.keycloak.seed import add_bulk_users
from offboard_emulators.keycloak.state import KeycloakFaults
from tests.contract.targets import EMULATOR_SECRET, Target, in_process_emulator


@pytest.fixture
async def emulator() -> AsyncIterator[Target]:
    async with in_process_emulator() as target:
        yield target


def source_for(target: Target, **options: object) -> KeycloakSource:
    assert target.emulator is not None
    transport = httpx.ASGITransport(app=create_app(target.emulator))
    return KeycloakSource(
        "http://keycloak.test",
        target.realm,
        "offboard",
        SecretStr(EMULATOR_SECRET),
        transport=transport,
        reread_delay=0.0,
        **options,  # type: ignore[arg-type]
    )


async def test_snapshot_lists_the_seeded_realm(emulator: Target) -> None:
    async with source_for(emulator) as source:
        snapshot = await source.snapshot()

    assert snapshot.complete, snapshot.problems
    by_name = {i.username: i for i in snapshot.identities}
    assert {"alice", "bob", "carol", "dave"} <= set(by_name)
    assert by_name["service-account-offboard"].service_account_client_id == "offboard"
    assert not by_name["bob"].enabled


async def test_many_pages_in_flight_list_everyone_once(emulator: Target) -> None:
    assert emulator.emulator is not None
    add_bulk_users(emulator.emulator.realm, 1234)
    async with source_for(emulator, page_size=100, concurrency=4) as source:
        snapshot = await source.snapshot()

    assert snapshot.complete, snapshot.problems
    assert snapshot.user_count is not None
    people = [i for i in snapshot.identities if not i.is_service_account]
    assert len(people) == snapshot.user_count >= 1234


async def test_a_deletion_during_paging_makes_the_snapshot_incomplete(emulator: Target) -> None:
    assert emulator.emulator is not None
    add_bulk_users(emulator.emulator.realm, 300)
    emulator.emulator.realm.configure_faults(KeycloakFaults(delete_during_paging=1))
    async with source_for(emulator, page_size=50, concurrency=1) as source:
        snapshot = await source.snapshot()

    assert not snapshot.complete
    assert any("shifted" in p for p in snapshot.problems), snapshot.problems


async def test_disable_delete_and_their_events(emulator: Target) -> None:
    async with source_for(emulator) as source:
        _, cursor = await source.events_since(None)
        leaver = await emulator.create_user("leaver")
        gone = await emulator.create_user("gone")
        await emulator.set_enabled(leaver, False)
        await emulator.admin("DELETE", f"users/{gone}")

        disabled = await source.read_identity(IdentityId(leaver))
        deleted = await source.read_identity(IdentityId(gone))
        events, _ = await source.events_since(cursor)

    assert disabled is not None
    assert disabled.disable_confirmed
    assert deleted is None
    assert [(e.identity_id, e.kind) for e in events] == [
        (leaver, "admin:USER:CREATE"),
        (gone, "admin:USER:CREATE"),
        (leaver, "admin:USER:UPDATE"),
        (gone, "admin:USER:DELETE"),
    ]


async def test_temporary_lockout_is_not_a_confirmed_disable(emulator: Target) -> None:
    user_id = await emulator.create_user("locked", password="right-password-1")
    await emulator.lock_out("locked")
    async with source_for(emulator) as source:
        identity = await source.read_identity(IdentityId(user_id))

    assert identity is not None
    assert identity.lockout is Lockout.TEMPORARY
    assert not identity.disable_confirmed


async def test_the_re_read_filters_out_most_spurious_disables(emulator: Target) -> None:
    # Keycloak issue 40689: a read may show an enabled user as disabled. One serial re-read
    # leaves only the cases where both reads lie (rate², not rate): the planner's grace
    # period and the next pass deal with those.
    assert emulator.emulator is not None
    user_id = await emulator.create_user("steady")
    faults = KeycloakFaults(spurious_disabled_rate=0.3, seed=7)
    emulator.emulator.realm.configure_faults(faults)
    async with source_for(emulator) as source:
        reads = [await source.read_identity(IdentityId(user_id)) for _ in range(60)]

    confirmed = sum(1 for r in reads if r is not None and r.disable_confirmed)
    assert confirmed < 0.3 * 60 / 2


async def test_self_check_passes(emulator: Target) -> None:
    async with source_for(emulator) as source:
        results = await source.self_check()

    assert [r for r in results if not r.ok] == []


async def test_group_scope_lists_the_group_members(emulator: Target) -> None:
    async with source_for(emulator, scope=KeycloakScope(group_paths=("/staff",))) as source:
        snapshot = await source.snapshot()
        bob = next(i for i in snapshot.identities if i.username == "bob")
        reread = await source.read_identity(bob.id)

    assert snapshot.complete, snapshot.problems
    assert {i.username for i in snapshot.identities} == {"alice", "bob"}
    assert all(i.groups == {"/staff"} for i in snapshot.identities)
    assert reread is not None
    assert reread.groups == {"/staff"}


@pytest.mark.parametrize("hostile", ["\x1b", "../clients", "a/b", "x?max=1", "id#frag", " "])
async def test_an_id_that_is_no_path_segment_reads_as_no_such_user(
    emulator: Target, hostile: str
) -> None:
    """An id from a form or a file is one path segment, escaped: never a malformed URL (a
    crash), never another endpoint (``../clients`` would read the realm's clients)."""
    async with source_for(emulator) as source:
        assert await source.read_identity(IdentityId(hostile)) is None
