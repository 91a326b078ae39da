"""The adapters against the Atlassian emulator: in-process (ASGI) and over a loopback socket.

The emulator is built from the same vendor documents by another hand; these tests show the
two readings meet.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from offboard.adapters.atlassian import AtlassianDirectory
from offboard.core.accounts import AccountClass, AccountId, AccountStatus, Membership
from offboard.core.identities import IdentityId
from offboard.core.plan import Action, Rule
from offboard.core.policy import ActionKind
from offboard.ports import AuthenticationError, ConflictError, NotManageableError
from offboard_emulators.atlassian import AtlassianState, create_app, load_fixture, seed
from offboard_emulators.atlassian.app import EmulatorParts
from offboard_emulators.atlassian.fixture import generate_accounts
from offboard_emulators.atlassian.model import Domain
from offboard_emulators.common.faults import FailNth, FaultConfig
from offboard_emulators.common.server import serve_in_thread

EXAMPLE = Path(__file__).parents[3] / "src/offboard_emulators/atlassian/example_fixture.json"
ORG = "9a1ja8a1-1a4b-1c23-d4e5-f6a7b8c9d0e1"
ADMIN = "5b10a2844c20165700ede21g"
LEAVER = "5b10ac8d82e05b22cc7d4ef5"
UNMANAGED = "5b10ac8d82e05b22cc7d4ef6"
GOOGLE = "5b10ac8d82e05b22cc7d4ef7"
OWNER = "5b10ac8d82e05b22cc7d4ef8"
SYNCED = "5b10ac8d82e05b22cc7d4ef9"
SEARCH = f"/admin/v2/orgs/{ORG}/directories/dir-main/users/search"


def action(kind: ActionKind, account_id: str) -> Action:
    return Action(
        kind, IdentityId("kc-1"), AccountId(account_id), None, Rule.IDENTITY_DISABLED,
        "Disabled in Keycloak (identity-disabled), by offboard",
    )  # fmt: skip


@pytest.fixture
def parts() -> EmulatorParts:
    state = AtlassianState()
    seed(state, load_fixture(EXAMPLE))
    # These tests read an account right after writing it; waiting out the read lag is the
    # executor's job, tested with the lag on in test_real_tenant.py.
    state.realism.read_lag_seconds = 0
    return EmulatorParts(state)


def directory(
    transport: httpx.AsyncBaseTransport | None,
    base_url: str = "https://api.atlassian.test",
    *,
    key: str = "emulator-org-key",
    directory_id: str | None = None,
) -> AtlassianDirectory:
    return AtlassianDirectory(
        org_id=ORG,
        org_key=key,
        base_url=base_url,
        directory_id=directory_id,
        scim_directory_id="scim-dir-1",
        scim_key="emulator-scim-key",
        key_owner_account_id=ADMIN,
        rate_per_second=500,
        burst=50,
        transport=transport,
    )


@pytest.fixture
async def atlassian(parts: EmulatorParts) -> AsyncIterator[AtlassianDirectory]:
    async with directory(httpx.ASGITransport(create_app(parts=parts))) as adapter:
        yield adapter


async def test_snapshot_discovers_the_directory_and_classifies_accounts(
    atlassian: AtlassianDirectory,
) -> None:
    seen: list[int] = []
    snap = await atlassian.snapshot(progress=lambda done, _total: seen.append(done))
    assert snap.complete, snap.problems
    assert snap.directory_id == "dir-main"
    assert snap.verified_domains == frozenset({"example.com"})
    by_id = {a.id: a for a in snap.accounts}
    assert len(by_id) == 26
    assert seen[-1] == 26
    assert by_id[AccountId(ADMIN)].is_org_admin
    assert by_id[AccountId(UNMANAGED)].account_class is AccountClass.UNMANAGED
    assert by_id[AccountId(SYNCED)].account_class is AccountClass.SCIM_LINKED
    assert by_id[AccountId(LEAVER)].account_class is AccountClass.MANAGED


async def test_verified_domains_are_read_across_url_paged_domain_lists(
    parts: EmulatorParts,
) -> None:
    """Domains come a page at a time with ``links.next`` a URL (``LinkPageModel``): a
    verified domain on a later page still makes its accounts managed."""
    parts.state.orgs[ORG].settings.v1_page_size = 1
    parts.state.add_domain(ORG, Domain("dom-late", "late.example", "verified"))
    async with directory(httpx.ASGITransport(create_app(parts=parts))) as adapter:
        snap = await adapter.snapshot()
    assert snap.complete, snap.problems
    assert snap.verified_domains == frozenset({"example.com", "late.example"})


async def test_deactivate_then_repeat_leaves_the_first_deactivation_alone(
    atlassian: AtlassianDirectory, parts: EmulatorParts
) -> None:
    first = await atlassian.execute(action(ActionKind.DEACTIVATE, LEAVER))
    deactivated_on = parts.state.account(LEAVER).deactivated_on
    again = await atlassian.execute(action(ActionKind.DEACTIVATE, LEAVER))
    account = await atlassian.read_account(AccountId(LEAVER))
    assert first.changed
    assert again.http_status == 204
    assert parts.state.account(LEAVER).deactivated_on == deactivated_on
    assert account is not None
    assert account.status is AccountStatus.INACTIVE
    assert (await atlassian.execute(action(ActionKind.REACTIVATE, LEAVER))).changed


async def test_a_tenant_answering_409_to_a_repeat_reads_as_no_change(
    atlassian: AtlassianDirectory, parts: EmulatorParts
) -> None:
    parts.state.orgs[ORG].settings.disable_inactive_conflict = True
    await atlassian.execute(action(ActionKind.DEACTIVATE, LEAVER))
    again = await atlassian.execute(action(ActionKind.DEACTIVATE, LEAVER))
    assert (again.changed, again.http_status, again.detail) == (False, 409, "already in state")


@pytest.mark.parametrize(
    ("account_id", "reason"),
    [
        (GOOGLE, "externalDirectory.google"),
        (ADMIN, "administrative.notMyself"),
        (UNMANAGED, "forbidden.targetUnverified"),
    ],
)
async def test_refusals_are_not_manageable(
    atlassian: AtlassianDirectory, account_id: str, reason: str
) -> None:
    with pytest.raises(NotManageableError) as caught:
        await atlassian.execute(action(ActionKind.DEACTIVATE, account_id))
    assert caught.value.reason_key == reason


async def test_site_owner_conflict(atlassian: AtlassianDirectory) -> None:
    with pytest.raises(ConflictError):
        await atlassian.execute(action(ActionKind.DEACTIVATE, OWNER))


async def test_unmanaged_accounts_are_suspended_instead(atlassian: AtlassianDirectory) -> None:
    assert (await atlassian.execute(action(ActionKind.SUSPEND, UNMANAGED))).changed
    account = await atlassian.read_account(AccountId(UNMANAGED))
    assert account is not None
    assert account.membership is Membership.SUSPENDED
    assert not (await atlassian.execute(action(ActionKind.SUSPEND, UNMANAGED))).changed
    assert (await atlassian.execute(action(ActionKind.RESTORE, UNMANAGED))).changed


async def test_scim_deactivation_and_lookup_by_email(atlassian: AtlassianDirectory) -> None:
    [found] = await atlassian.find_by_email("synced@example.com")
    assert found.scim is not None
    assert (await atlassian.execute(action(ActionKind.SCIM_DEACTIVATE, SYNCED))).changed
    account = await atlassian.read_account(AccountId(SYNCED))
    assert account is not None
    assert not account.has_access


async def test_one_lookup_finds_an_address_spelled_in_capitals_when_case_counts(
    parts: EmulatorParts, atlassian: AtlassianDirectory
) -> None:
    """The address is typed as Keycloak shows it; the account holds that spelling (SAML
    sign-in made it) or the lower-case one. One search asks both."""
    parts.state.realism.emails_filter_ignores_case = False
    account = parts.state.accounts[SYNCED]
    for held in ("Synced@Example.com", "synced@example.com"):
        account.email = held
        parts.log.clear()
        found = await atlassian.find_by_email("Synced@Example.com")
        assert [a.id for a in found] == [SYNCED], held
        searches = [e for e in parts.log.entries() if e.path.endswith("/users/search")]
        assert len(searches) == 1


async def test_self_check_passes_with_the_admin_key(atlassian: AtlassianDirectory) -> None:
    results = await atlassian.self_check()
    assert all(r.ok for r in results), [r for r in results if not r.ok]


async def test_scoped_and_expired_keys(parts: EmulatorParts) -> None:
    app = create_app(parts=parts)
    async with directory(httpx.ASGITransport(app), key="emulator-scoped-key") as scoped:
        checks = {r.name: r for r in await scoped.self_check()}
        assert not checks["atlassian.key_type"].ok
        assert "without scopes" in checks["atlassian.key_type"].fix
    async with directory(httpx.ASGITransport(app), key="emulator-expired-key") as expired:
        with pytest.raises(AuthenticationError, match="expired or wrong"):
            await expired.snapshot()


async def test_a_page_that_keeps_failing_makes_the_snapshot_incomplete(
    parts: EmulatorParts,
) -> None:
    generate_accounts(parts.state, ORG, 200, domain="example.com", directory_id="dir-main")
    parts.faults.configure(
        FaultConfig(fail_nth=[FailNth(SEARCH, nth=2, status=500, method="POST", times=99)])
    )
    async with directory(httpx.ASGITransport(create_app(parts=parts))) as adapter:
        snap = await adapter.snapshot()
    assert not snap.complete
    assert len(snap.accounts) == 100
    assert "after 100 accounts" in snap.problems[0]


async def test_503_bursts_are_retried(parts: EmulatorParts) -> None:
    parts.faults.configure(
        FaultConfig(fail_nth=[FailNth(SEARCH, nth=1, status=503, method="POST", times=3)])
    )
    async with directory(httpx.ASGITransport(create_app(parts=parts))) as adapter:
        snap = await adapter.snapshot()
    assert snap.complete
    assert len(snap.accounts) == 26


@pytest.fixture
def loopback(parts: EmulatorParts) -> Iterator[str]:
    with serve_in_thread(create_app(parts=parts)) as url:
        yield url


@pytest.mark.e2e
async def test_over_a_loopback_socket(loopback: str) -> None:
    assert loopback.startswith("http://127.0.0.1:")
    async with directory(None, loopback, directory_id="dir-main") as adapter:
        snap = await adapter.snapshot()
        assert snap.complete
        assert (await adapter.execute(action(ActionKind.DEACTIVATE, LEAVER))).changed
        account = await adapter.read_account(AccountId(LEAVER))
    assert account is not None
    assert account.status is AccountStatus.INACTIVE
