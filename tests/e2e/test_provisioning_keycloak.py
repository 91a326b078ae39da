"""Provisioning with the real Keycloak and the Atlassian emulator's SCIM directory, over sockets.

A joiner appears in Atlassian with their groups, a mover's group change moves their SCIM
membership, conflicts are blocked with their reason, a second plan is empty, and a leaver
is deactivated through SCIM by the ordinary deprovisioning run.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from offboard.adapters.keycloak import KeycloakScope, KeycloakSource
from offboard.core.identities import IdentityId
from offboard.core.journal import Phase, Status
from offboard.core.plan import EntryStatus, GuardName, Plan, Rule
from offboard.core.policy import ActionKind, Policy
from offboard.executor.outcomes import ApplyReport
from offboard.ports import SystemClock
from offboard.service.reconciling import RunReport, reconcile
from offboard.store import SqlStore, open_store
from tests.e2e.harness import DOMAIN, Tenant
from tests.e2e.provisioning_rig import (
    atlassian_directory,
    group_members,
    provisioning,
    scim_tenant,
    scim_user_by_email,
)
from tests.keycloak.fixture import KeycloakServer

pytestmark = [pytest.mark.e2e, pytest.mark.keycloak, pytest.mark.slow]


@pytest.fixture
def tenant() -> Iterator[Tenant]:
    with scim_tenant() as running:
        yield running


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = open_store(tmp_path / "offboard.sqlite3")
    yield opened
    opened.close()


@pytest.fixture
def created(keycloak_server: KeycloakServer) -> Iterator[list[str]]:
    """Admin paths of what the test created in the shared realm, deleted afterwards (users
    first) so that no other test's searches or counts see them."""
    paths: list[str] = []
    yield paths
    for path in sorted(paths, key=lambda p: not p.startswith("users/")):
        keycloak_server.admin.request("DELETE", path)


def _group(
    keycloak: KeycloakServer, created: list[str], name: str, parent: str | None = None
) -> str:
    path = f"groups/{parent}/children" if parent else "groups"
    response = keycloak.admin.request("POST", path, json={"name": name})
    group_id = response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    if parent is None:
        created.append(f"groups/{group_id}")
    return group_id


async def test_joiner_mover_conflicts_and_leaver(
    keycloak_server: KeycloakServer, tenant: Tenant, store: SqlStore, created: list[str]
) -> None:
    kc, tag = keycloak_server, uuid.uuid4().hex[:8]
    scope = f"p16-scope-{tag}"
    scope_id = _group(kc, created, scope)
    root = f"p16-{tag}"
    root_id = _group(kc, created, root)
    devs, ops = f"p16devs-{tag}", f"p16ops-{tag}"
    devs_id, ops_id = _group(kc, created, devs, root_id), _group(kc, created, ops, root_id)

    def person(name: str, email: str | None, *groups: str) -> str:
        user_id = kc.admin.create_user(f"p16{tag}{name}", email=email, first_name=f"P16{name}")
        created.append(f"users/{user_id}")
        for group in (scope_id, *groups):
            kc.admin.request("PUT", f"users/{user_id}/groups/{group}")
        return user_id

    alice_email, bob_email = f"p16{tag}alice@{DOMAIN}", f"p16{tag}bob@{DOMAIN}"
    alice = person("alice", alice_email, devs_id)
    bob = person("bob", bob_email, ops_id)
    person("carol", "", devs_id)  # no email: blocked
    dave_email = f"p16{tag}dave@{DOMAIN}"
    person("dave", dave_email, devs_id)
    tenant.add_account(dave_email)  # an existing account not provisioned by SCIM: blocked

    async def run(
        overrides: frozenset[GuardName] = frozenset(), recheck: str | None = None
    ) -> tuple[Plan, list[ApplyReport], str]:
        async with provisioning(
            kc.base_url, kc.realm, kc.client_id, kc.client_secret, tenant,
            scope_group=f"/{scope}", prefixes=(f"/{root}",),
        ) as prov:  # fmt: skip
            if recheck is None:
                plan = await prov.plan(SystemClock(), overrides)
            else:  # an event re-check: this person only, a few requests
                plan = await prov.recheck_plan(IdentityId(recheck), SystemClock(), overrides)
                assert prov.provisioner.requests <= 8
            run_id = store.start_run("provision", SystemClock().now())
            reports = await prov.apply(plan, store=store, clock=SystemClock(), run_id=run_id)
            return plan, reports, run_id

    plan, _reports, run_id = await run()
    kinds = sorted((str(a.kind), a.email or a.account_id) for a in plan.actions)
    assert ("scim_create_user", alice_email) in kinds
    assert ("scim_create_user", bob_email) in kinds
    assert ("scim_create_group", f"scim-group:{devs}") in kinds
    blocked = {(e.rule, e.email) for e in plan.entries if e.status is EntryStatus.BLOCKED}
    assert (Rule.EMAIL_TAKEN, dave_email) in blocked
    assert any(rule is Rule.NO_EMAIL for rule, _ in blocked)
    assert scim_user_by_email(tenant, dave_email) is None  # never overwritten

    # The joiner appears in Atlassian with their groups, read back and journaled.
    alice_scim = scim_user_by_email(tenant, alice_email)
    assert alice_scim is not None
    assert alice_scim.external_id == alice
    assert tenant.status(alice_scim.account_id) == "active"
    assert group_members(tenant, devs) == {alice_email}
    assert group_members(tenant, ops) == {bob_email}
    readbacks = [r for r in store.journal(run_id=run_id) if r.phase is Phase.READBACK]
    assert readbacks
    assert {r.status for r in readbacks} == {Status.VERIFIED}

    # A mover: alice leaves devs for ops in Keycloak; the re-check an admin event triggers
    # moves her SCIM membership, reading only what concerns her.
    kc.admin.request("DELETE", f"users/{alice}/groups/{devs_id}")
    kc.admin.request("PUT", f"users/{alice}/groups/{ops_id}")
    plan, _, _ = await run(recheck=alice)
    moved = {(str(a.kind), a.account_id) for a in plan.actions}
    assert moved == {
        ("scim_add_members", f"scim-group:{ops}"),
        ("scim_remove_members", f"scim-group:{devs}"),
    }
    assert group_members(tenant, devs) == set()
    assert group_members(tenant, ops) == {alice_email, bob_email}

    # Nothing left to do: the next plan is empty.
    plan, _, _ = await run()
    assert plan.actions == ()

    # A leaver: bob is disabled; the ordinary run deactivates him through SCIM.
    policy = Policy(domains=frozenset({DOMAIN}), scim_directory_configured=True)
    kc_scope = KeycloakScope(group_paths=(f"/{scope}",))

    async def reconcile_once() -> RunReport:
        async with (
            KeycloakSource(
                kc.base_url,
                kc.realm,
                kc.client_id,
                SecretStr(kc.client_secret),
                scope=kc_scope,
                reread_delay=0.0,
            ) as source,
            atlassian_directory(tenant) as directory,
        ):
            return await reconcile(
                source=source, directory=directory, store=store, policy=policy,
                clock=SystemClock(), apply=True,
            )  # fmt: skip

    await reconcile_once()
    kc.admin.disable_user(bob)
    report = await reconcile_once()
    assert report.plan is not None
    actions = {(a.kind, a.email) for a in report.plan.actions}
    assert (ActionKind.SCIM_DEACTIVATE, bob_email) in actions
    bob_scim = scim_user_by_email(tenant, bob_email)
    assert bob_scim is not None
    assert bob_scim.active is False
    assert tenant.status(bob_scim.account_id) == "inactive"
