"""The adapters against the emulator as strict as Atlassian (issue 12): every behaviour of
``offboard_emulators.atlassian.realism`` is on, as it is by default.

Each test names the behaviour it relies on; the ``_is_on_by_default`` tests in
``tests/emulators/atlassian/test_realism.py`` fail if a behaviour is switched off, so a
lenient emulator cannot hide a defect that these tests would otherwise catch.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from offboard.adapters.atlassian import AtlassianDirectory
from offboard.adapters.atlassian_org import requests as rq
from offboard.adapters.atlassian_org.casting import to_account
from offboard.adapters.atlassian_org.wire import DirectoryUser
from offboard.core.accounts import (
    KEY_OWNER_FACT,
    AccountClass,
    AccountId,
    AccountStatus,
    ManagementSource,
    Membership,
)
from offboard.core.identities import IdentityId
from offboard.core.journal import Status
from offboard.core.plan import Action, Rule
from offboard.core.policy import DEFAULT_ACTIONS, ActionKind
from offboard.executor.readback import ReadBackPolicy
from offboard.executor.retrying import RetryPolicy
from offboard.executor.sending import ActionSender
from offboard.ports import NotManageableError, PermanentError, SystemClock
from offboard.store import SqlStore, open_store
from offboard_emulators.atlassian import AtlassianState, create_app, load_fixture, seed
from offboard_emulators.atlassian.app import EmulatorParts
from offboard_emulators.atlassian.fixture import generate_accounts
from offboard_emulators.atlassian.model import Directory

EXAMPLE = Path(__file__).parents[3] / "src/offboard_emulators/atlassian/example_fixture.json"
ORG = "9a1ja8a1-1a4b-1c23-d4e5-f6a7b8c9d0e1"
KEY_OWNER = "5b10a2844c20165700ede21g"
"""The example fixture's org admin, owner of ``emulator-org-key``."""
LEAVER = "5b10ac8d82e05b22cc7d4ef5"
UNMANAGED = "5b10ac8d82e05b22cc7d4ef6"
GOOGLE = "5b10ac8d82e05b22cc7d4ef7"
SCIM_SYNCED = "5b10ac8d82e05b22cc7d4ef9"


def action(kind: ActionKind, account_id: str) -> Action:
    return Action(
        kind, IdentityId("kc-1"), AccountId(account_id), None, Rule.IDENTITY_DISABLED,
        "Disabled in Keycloak (identity-disabled), by offboard",
    )  # fmt: skip


@pytest.fixture
def parts() -> EmulatorParts:
    state = AtlassianState()
    seed(state, load_fixture(EXAMPLE))
    return EmulatorParts(state)


def directory(parts: EmulatorParts, key_owner: str | None = None) -> AtlassianDirectory:
    return AtlassianDirectory(
        org_id=ORG,
        org_key="emulator-org-key",
        base_url="https://api.atlassian.test",
        directory_id="dir-main",
        key_owner_account_id=key_owner,
        rate_per_second=500,
        burst=50,
        transport=httpx.ASGITransport(create_app(parts=parts)),
    )


@pytest.fixture
async def atlassian(parts: EmulatorParts) -> AsyncIterator[AtlassianDirectory]:
    async with directory(parts) as adapter:
        yield adapter


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = open_store(tmp_path / "state.db")
    yield opened
    opened.close()


def sender(atlassian: AtlassianDirectory, store: SqlStore) -> ActionSender:
    return ActionSender(
        atlassian, store, SystemClock(), "run-1", "fp", RetryPolicy(attempts=2), {},
        readback=ReadBackPolicy(first_delay=0.1),
    )  # fmt: skip


# 1. Body-less POSTs: Atlassian answers 415 ADMIN-UAM-415-1 without a JSON content type.


@pytest.mark.parametrize(
    ("kind", "account_id"),
    [
        (ActionKind.SUSPEND, UNMANAGED),
        (ActionKind.DEACTIVATE, LEAVER),
        (ActionKind.DELETE, LEAVER),
    ],
)
async def test_every_write_is_accepted_by_a_strict_media_type_check(
    atlassian: AtlassianDirectory, parts: EmulatorParts, kind: ActionKind, account_id: str
) -> None:
    result = await atlassian.execute(action(kind, account_id))
    assert result.changed
    assert not [r for r in parts.log.entries() if r.status == 415]


async def test_restore_and_enable_are_accepted_too(
    atlassian: AtlassianDirectory, parts: EmulatorParts
) -> None:
    parts.state.realism.read_lag_seconds = 0  # restore reads the membership first
    await atlassian.execute(action(ActionKind.SUSPEND, UNMANAGED))
    await atlassian.execute(action(ActionKind.DEACTIVATE, LEAVER))
    assert (await atlassian.execute(action(ActionKind.RESTORE, UNMANAGED))).changed
    assert (await atlassian.execute(action(ActionKind.REACTIVATE, LEAVER))).changed


# 2. Cursors are opaque base64 that may start with "/" and hold "+" and "=".


async def test_a_walk_over_base64_cursors_reads_every_account(parts: EmulatorParts) -> None:
    generate_accounts(parts.state, ORG, 150, domain="example.com", directory_id="dir-main")
    async with directory(parts) as adapter:
        snapshot = await adapter.snapshot()
    members = parts.state.orgs[ORG].directories["dir-main"].memberships
    assert snapshot.complete
    assert {a.id for a in snapshot.accounts} == set(members)


def test_only_an_absolute_url_is_read_as_a_link() -> None:
    assert rq.next_cursor("/+++eyJzIjoxfQ==") == "/+++eyJzIjoxfQ=="
    assert rq.next_cursor("https://api.atlassian.com/admin/v1/orgs?cursor=a%2Bb") == "a+b"
    assert rq.next_cursor(None) is None
    with pytest.raises(PermanentError, match="no cursor"):
        rq.next_cursor("https://api.atlassian.com/admin/v1/orgs?page=2")


def test_a_relative_url_link_is_read_for_its_cursor() -> None:
    """``LinkPageModel`` calls ``next`` a URL, not an absolute one: a path with a query is
    a URL too (a base64 token never holds ``?``), and its cursor is what goes back."""
    link = "/admin/v1/orgs/o-1/domains?cursor=%2F%2B%2Babc%3D"
    assert rq.next_cursor(link) == "/++abc="
    with pytest.raises(PermanentError, match="no cursor"):
        rq.next_cursor("/admin/v1/orgs/o-1/domains?page=2")


# 3. platformRoles only with the matching expand; a missing field means "unknown".


async def test_org_admins_are_recognised_when_roles_come_only_on_request(
    atlassian: AtlassianDirectory,
) -> None:
    snapshot = await atlassian.snapshot()
    by_id = {a.id: a for a in snapshot.accounts}
    assert by_id[AccountId(KEY_OWNER)].is_org_admin
    assert by_id[AccountId(LEAVER)].platform_roles == frozenset()
    assert not by_id[AccountId(LEAVER)].is_org_admin


def test_a_missing_platform_roles_field_protects_the_account() -> None:
    user = DirectoryUser.model_validate({"accountId": "a-1", "email": "a@example.com"})
    account = to_account(user, frozenset({"example.com"}))
    assert account.platform_roles is None
    assert account.is_org_admin


# 4. Eventual consistency: a read right after a write may show the old state.


async def test_the_read_back_waits_for_the_write_to_show(
    atlassian: AtlassianDirectory, parts: EmulatorParts, store: SqlStore
) -> None:
    parts.state.realism.read_lag_seconds = 0.4
    outcome = await sender(atlassian, store).run(action(ActionKind.DEACTIVATE, LEAVER))
    assert outcome.status is Status.SUCCEEDED
    assert outcome.readback is Status.VERIFIED


async def test_a_write_that_never_shows_is_still_a_mismatch(
    atlassian: AtlassianDirectory, parts: EmulatorParts, store: SqlStore
) -> None:
    parts.state.realism.read_lag_seconds = 60
    patient = sender(atlassian, store)
    outcome = await patient.run(action(ActionKind.DEACTIVATE, LEAVER))
    assert outcome.readback is Status.MISMATCH
    account = await atlassian.read_account(AccountId(LEAVER))
    assert account is not None
    assert account.status is AccountStatus.ACTIVE
    assert parts.state.account(LEAVER).account_status == "inactive"


# 8. The key-type self-check probes a managed account, never the first one listed.


async def test_the_key_type_probe_skips_an_unmanaged_first_account(parts: EmulatorParts) -> None:
    order = parts.state.orgs[ORG].directories["dir-main"].order
    order.remove(UNMANAGED)
    order.insert(0, UNMANAGED)
    async with directory(parts) as adapter:
        results = {r.name: r for r in await adapter.self_check()}
    assert results["atlassian.key_type"].ok, results["atlassian.key_type"].detail
    assert not results["atlassian.key_type"].warning


# 13. The key owner is learned from administrative.notMyself and protected from then on.


async def test_the_key_owner_is_learned_from_the_refusal(
    atlassian: AtlassianDirectory, store: SqlStore
) -> None:
    assert (await atlassian.snapshot()).key_owner_account_id is None
    outcome = await sender(atlassian, store).run(action(ActionKind.DEACTIVATE, KEY_OWNER))
    assert outcome.status is Status.BLOCKED
    assert store.cursor(KEY_OWNER_FACT) == KEY_OWNER
    assert (await atlassian.snapshot()).key_owner_account_id == KEY_OWNER


async def test_the_refusal_names_the_reason(atlassian: AtlassianDirectory) -> None:
    with pytest.raises(NotManageableError) as refused:
        await atlassian.execute(action(ActionKind.DEACTIVATE, KEY_OWNER))
    assert refused.value.reason_key == "administrative.notMyself"


async def test_suspend_reads_the_membership_through_the_lag(
    atlassian: AtlassianDirectory, store: SqlStore
) -> None:
    outcome = await sender(atlassian, store).run(action(ActionKind.SUSPEND, UNMANAGED))
    assert outcome.readback is Status.VERIFIED
    account = await atlassian.read_account(AccountId(UNMANAGED))
    assert account is not None
    assert account.membership in (Membership.ACTIVE, Membership.SUSPENDED)


# 5. managementSource is invited, synced or null: classes come from what the API returns.


async def test_google_synced_accounts_are_suspended_not_disabled(
    atlassian: AtlassianDirectory,
) -> None:
    by_id = {a.id: a for a in (await atlassian.snapshot()).accounts}
    google = by_id[AccountId(GOOGLE)]
    assert google.management_source is ManagementSource.SYNCED
    assert google.account_class is AccountClass.GOOGLE_SYNCED
    assert DEFAULT_ACTIONS[google.account_class] is ActionKind.SUSPEND
    assert (await atlassian.execute(action(ActionKind.SUSPEND, GOOGLE))).changed


async def test_a_synced_account_without_our_scim_key_is_not_given_a_lifecycle_call(
    atlassian: AtlassianDirectory,
) -> None:
    by_id = {a.id: a for a in (await atlassian.snapshot()).accounts}
    synced = by_id[AccountId(SCIM_SYNCED)]
    assert synced.scim is None
    assert synced.account_class is AccountClass.GOOGLE_SYNCED


def test_an_undocumented_management_source_is_handled_as_synced() -> None:
    user = DirectoryUser.model_validate(
        {"accountId": "a-1", "email": "a@example.com", "managementSource": "workday",
         "claimStatus": "managed", "platformRoles": []}
    )  # fmt: skip
    account = to_account(user, frozenset({"example.com"}))
    assert account.management_source is ManagementSource.UNKNOWN
    assert account.account_class is AccountClass.GOOGLE_SYNCED


# 6. A SCIM record is found by its link to the account, not by userName == email.


def scim_directory(parts: EmulatorParts) -> AtlassianDirectory:
    return AtlassianDirectory(
        org_id=ORG,
        org_key="emulator-org-key",
        base_url="https://api.atlassian.test",
        directory_id="dir-main",
        scim_directory_id="scim-dir-1",
        scim_key="emulator-scim-key",
        rate_per_second=500,
        burst=50,
        transport=httpx.ASGITransport(create_app(parts=parts)),
    )


def give_an_idp_user_name(parts: EmulatorParts) -> None:
    """Entra ID and others often send an employee number or a UPN as ``userName``."""
    scim = parts.state.orgs[ORG].scim_directories["scim-dir-1"]
    scim.users["scim-user-sam"].user_name = "E-10042"


async def test_a_scim_record_with_another_user_name_is_found_and_deactivated(
    parts: EmulatorParts,
) -> None:
    give_an_idp_user_name(parts)
    parts.state.realism.read_lag_seconds = 0
    async with scim_directory(parts) as adapter:
        account = await adapter.read_account(AccountId(SCIM_SYNCED))
        assert account is not None
        assert account.scim is not None
        assert account.scim.scim_user_id == "scim-user-sam"
        [found] = await adapter.find_by_email("synced@example.com")
        assert found.scim is not None
        assert (await adapter.execute(action(ActionKind.SCIM_DEACTIVATE, SCIM_SYNCED))).changed
    assert not parts.state.orgs[ORG].scim_directories["scim-dir-1"].users["scim-user-sam"].active


async def test_after_a_snapshot_the_record_is_read_by_its_id(parts: EmulatorParts) -> None:
    give_an_idp_user_name(parts)
    async with scim_directory(parts) as adapter:
        snapshot = await adapter.snapshot()
        assert {a.id: a for a in snapshot.accounts}[AccountId(SCIM_SYNCED)].scim is not None
        parts.log.clear()
        await adapter.read_account(AccountId(SCIM_SYNCED))
        await adapter.read_account(AccountId(LEAVER))  # no SCIM record: no listing either
    scim_paths = [r.path for r in parts.log.entries() if "/scim/" in r.path]
    assert scim_paths == ["/scim/directory/scim-dir-1/Users/scim-user-sam"]


# 10. Several directories: which directory holds which account, and accounts in several.


def with_second_directory(parts: EmulatorParts) -> str:
    """``dir-two`` holds LEAVER (suspended there) and an account of its own."""
    state = parts.state
    state.add_directory(ORG, Directory("dir-two", "Second identity provider"))
    state.orgs[ORG].directories["dir-two"].add(LEAVER, "suspended")
    only_there = generate_accounts(state, ORG, 1, domain="example.com", directory_id="dir-two")
    return only_there[0]


async def test_an_org_with_several_directories_is_read_across_all(parts: EmulatorParts) -> None:
    only_there = with_second_directory(parts)
    parts.state.realism.read_lag_seconds = 0
    async with AtlassianDirectory(
        org_id=ORG, org_key="emulator-org-key", base_url="https://api.atlassian.test",
        rate_per_second=500, burst=50, transport=httpx.ASGITransport(create_app(parts=parts)),
    ) as adapter:  # fmt: skip
        checks = {r.name: r for r in await adapter.self_check()}
        snapshot = await adapter.snapshot()
        ids = [a.id for a in snapshot.accounts]
        leaver = {a.id: a for a in snapshot.accounts}[AccountId(LEAVER)]
        assert (await adapter.execute(action(ActionKind.SUSPEND, LEAVER))).changed
    assert checks["atlassian.directory"].ok
    assert "2 directories" in checks["atlassian.directory"].detail
    assert snapshot.complete
    assert len(ids) == len(set(ids))
    assert only_there in ids
    assert leaver.membership is Membership.ACTIVE  # active in dir-main: still has access
    memberships = parts.state.orgs[ORG].directories
    assert memberships["dir-main"].memberships[LEAVER] == "suspended"
    assert memberships["dir-two"].memberships[LEAVER] == "suspended"
