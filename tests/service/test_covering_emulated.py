"""A full run's targeted Atlassian read against the emulators: the same plan as the walk.

One world with the hazards a real org has, planned twice from the same state, once with the
whole walk and once with the targeted searches (``atlassian.directory_read``):

* bob left, and the search by ids leaves his account out of its answer (read by id);
* carol left but her account is an org admin (``platformRoles``, expanded);
* alice left but her account owns the API key;
* dave left and his account is already inactive;
* erin was deleted from Keycloak; frank is fine and unchanged (never read when targeted);
* gina and hank share one email that one account holds (ambiguous identities);
* ivan is new: his account is found by email and linked.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from offboard.adapters.atlassian import AtlassianDirectory
from offboard.core.accounts import Account, AccountId
from offboard.core.plan import Plan, Rule
from offboard.core.policy import ActionKind, Policy
from offboard.core.snapshots import SnapshotKind
from offboard.ports import SystemClock, TemporaryError
from offboard.service.reconciling import PlanResult, build_plan, reconcile
from offboard.store import SqlStore, open_store
from offboard_emulators.keycloak.emulator import EmulatorState
from offboard_emulators.keycloak.model import User
from tests.contract.targets import socket_emulator
from tests.e2e.harness import DIRECTORY, DOMAIN, ORG_ID, ORG_KEY, OWNER_ID, Tenant
from tests.e2e.harness import atlassian_emulator as atlassian_tenant
from tests.service.test_reconciling_emulated import _set_enabled, _source, _user_id

pytestmark = pytest.mark.e2e

POLICY = Policy(domains=frozenset({DOMAIN}))
REPORTS = {Rule.NEVER_LINKED, Rule.NOT_DEACTIVATED_BY_OFFBOARD}


@dataclass(frozen=True)
class FixedClock:
    at: datetime

    def now(self) -> datetime:
        return self.at


AT_NOON = FixedClock(datetime(2026, 12, 1, 12, tzinfo=UTC))
"""Both plans made at one instant: links and reasons carry the time."""


class Forgetful(AtlassianDirectory):
    """The real adapter, whose batch answers leave out the accounts in ``forget``."""

    forget: frozenset[str] = frozenset()

    async def read_accounts(self, account_ids: Sequence[AccountId]) -> dict[str, Account]:
        found = await super().read_accounts(account_ids)
        return {k: v for k, v in found.items() if k not in self.forget}


def _directory(tenant: Tenant, mode: str, forget: frozenset[str] = frozenset()) -> Forgetful:
    directory = Forgetful(
        org_id=ORG_ID, org_key=ORG_KEY, base_url=tenant.url, directory_id=DIRECTORY,
        key_owner_account_id=OWNER_ID, rate_per_second=200, burst=20, directory_read=mode,
    )  # fmt: skip
    directory.forget = forget
    return directory


def _add_user(state: EmulatorState, username: str, email: str) -> None:
    user = User(uuid.uuid4().hex, username, 0, enabled=True, email=email, email_verified=True)
    state.realm.add_user(user)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = open_store(tmp_path / "offboard.sqlite3")
    yield opened
    opened.close()


@pytest.fixture
def world(store: SqlStore) -> Iterator[tuple[tuple[str, EmulatorState], Tenant, dict[str, str]]]:
    with socket_emulator() as keycloak, atlassian_tenant() as tenant:
        state = keycloak[1]
        _set_enabled(state, "bob", True)
        for name in ("erin", "frank"):
            _add_user(state, name, f"{name}@{DOMAIN}")
        with tenant.state.lock:
            tenant.state.account(OWNER_ID).email = f"alice@{DOMAIN}"
            tenant.state.by_email[f"alice@{DOMAIN}"] = OWNER_ID
        ids = {"alice": OWNER_ID}
        ids |= {n: tenant.add_account(f"{n}@{DOMAIN}") for n in ("bob", "carol", "dave")}
        ids |= {n: tenant.add_account(f"{n}@{DOMAIN}") for n in ("erin", "frank")}
        yield keycloak, tenant, ids


async def _plan(
    keycloak: tuple[str, EmulatorState], tenant: Tenant, store: SqlStore, mode: str,
    forget: frozenset[str] = frozenset(),
) -> PlanResult:  # fmt: skip
    async with _source(*keycloak) as source, _directory(tenant, mode, forget) as directory:
        return await build_plan(
            source=source, directory=directory, store=store, policy=POLICY, clock=AT_NOON
        )


def _hazards(keycloak: tuple[str, EmulatorState], tenant: Tenant, ids: dict[str, str]) -> None:
    state = keycloak[1]
    for name in ("alice", "bob", "carol", "dave"):
        _set_enabled(state, name, False)
    state.realm.remove_user(_user_id(state, "erin"))
    for name in ("gina", "hank"):
        _add_user(state, name, f"gh@{DOMAIN}")
    _add_user(state, "ivan", f"ivan@{DOMAIN}")
    tenant.add_account(f"gh@{DOMAIN}")
    ids["ivan"] = tenant.add_account(f"ivan@{DOMAIN}")
    with tenant.state.lock:
        tenant.state.account(ids["carol"]).platform_roles = ["atlassian/org-admin"]
        tenant.state.account(ids["dave"]).account_status = "inactive"


def _decisions(made: Plan) -> tuple[object, ...]:
    entries = {e for e in made.entries if e.rule not in REPORTS}
    # Guards by outcome: their messages quote the baseline the plan before moved.
    guards = [(g.name, g.tripped, g.observed) for g in made.guards]
    return made.actions, made.link_updates, guards, entries


async def test_the_targeted_read_plans_as_the_walk_over_the_hazards(
    world: tuple[tuple[str, EmulatorState], Tenant, dict[str, str]], store: SqlStore
) -> None:
    keycloak, tenant, ids = world
    first = await _plan(keycloak, tenant, store, "walk")
    store.upsert_links(first.plan.link_updates)  # as an applied first run leaves it
    assert len(store.links()) == 6
    _hazards(keycloak, tenant, ids)

    walked = await _plan(keycloak, tenant, store, "walk")
    tenant.parts.log.clear()
    targeted = await _plan(keycloak, tenant, store, "targeted", forget=frozenset({ids["bob"]}))

    assert walked.target.kind is SnapshotKind.FULL
    assert targeted.target.kind is SnapshotKind.COVERING
    assert targeted.target.complete
    assert _decisions(targeted.plan) == _decisions(walked.plan)
    kinds = {(a.kind, a.account_id) for a in targeted.plan.actions}
    assert (ActionKind.DEACTIVATE, ids["bob"]) in kinds
    assert (ActionKind.DEACTIVATE, ids["erin"]) in kinds
    assert (ActionKind.LINK, ids["ivan"]) in kinds
    assert not {ids["alice"], ids["carol"], ids["dave"]} & {a for _, a in kinds}
    rules = {e.rule for e in targeted.plan.entries}
    assert {Rule.AMBIGUOUS_IDENTITIES, Rule.PROTECTED_ORG_ADMIN, Rule.PROTECTED_KEY_OWNER} <= rules
    asked = [entry.path for entry in tenant.parts.log.entries() if entry.method == "GET"]
    assert any(path.endswith(f"/users/{ids['bob']}") for path in asked)  # read by id
    assert ids["frank"] not in {a.id for a in targeted.target.accounts}


async def test_a_failed_search_blocks_like_an_incomplete_walk(
    world: tuple[tuple[str, EmulatorState], Tenant, dict[str, str]], store: SqlStore
) -> None:
    keycloak, tenant, ids = world
    first = await _plan(keycloak, tenant, store, "walk")
    store.upsert_links(first.plan.link_updates)
    _hazards(keycloak, tenant, ids)

    class Failing(Forgetful):
        async def find_by_emails(self, emails: list[str]) -> Sequence[Account]:
            raise TemporaryError("the email search answered 503 after retries")

    async with _source(*keycloak) as source:
        directory = Failing(
            org_id=ORG_ID, org_key=ORG_KEY, base_url=tenant.url, directory_id=DIRECTORY,
            key_owner_account_id=OWNER_ID, directory_read="targeted",
        )  # fmt: skip
        async with directory:
            result = await build_plan(
                source=source, directory=directory, store=store, policy=POLICY,
                clock=SystemClock(),
            )  # fmt: skip
    assert not result.target.complete
    assert result.plan.is_blocked
    assert "target-incomplete" in {g.name.value for g in result.plan.blocked_by}


async def test_auto_journals_its_choice_and_a_run_applies_the_targeted_plan(
    world: tuple[tuple[str, EmulatorState], Tenant, dict[str, str]], store: SqlStore
) -> None:
    keycloak, tenant, ids = world
    async with _source(*keycloak) as source, _directory(tenant, "auto") as directory:
        first = await reconcile(
            source=source, directory=directory, store=store, policy=POLICY,
            clock=SystemClock(), apply=True,
        )  # fmt: skip
    assert str(first.summary["atlassian_read"]).startswith("walk: 1 pages")
    _set_enabled(keycloak[1], "bob", False)
    async with _source(*keycloak) as source, _directory(tenant, "targeted") as directory:
        second = await reconcile(
            source=source, directory=directory, store=store, policy=POLICY,
            clock=SystemClock(), apply=True,
        )  # fmt: skip
    assert second.status == "applied", second.summary
    assert str(second.summary["atlassian_read"]).startswith("targeted")
    assert tenant.status(ids["bob"]) == "inactive"
    assert tenant.status(ids["frank"]) == "active"


async def test_a_new_person_spelled_in_capitals_is_found_when_the_filter_matches_case(
    world: tuple[tuple[str, EmulatorState], Tenant, dict[str, str]], store: SqlStore
) -> None:
    """SAML sign-in made June's account with Keycloak's spelling. Should Atlassian's exact
    ``emails`` filter match case too, the lower-case address alone would not find it."""
    keycloak, tenant, _ = world
    spelled = f"June.Park@{DOMAIN}"
    _add_user(keycloak[1], "june", spelled)
    june = tenant.add_account(spelled)
    with tenant.state.lock:
        tenant.state.realism.emails_filter_ignores_case = False
    targeted = await _plan(keycloak, tenant, store, "targeted")
    assert targeted.target.kind is SnapshotKind.COVERING
    assert (ActionKind.LINK, june) in {(a.kind, a.account_id) for a in targeted.plan.actions}
