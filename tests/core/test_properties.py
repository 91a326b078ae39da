"""Properties of the planner over generated worlds (DESIGN.md section 6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from offboard.core.accounts import (
    Account,
    AccountStatus,
    Claim,
    ManagementSource,
    Membership,
    ScimLink,
)
from offboard.core.identities import Identity, Lockout
from offboard.core.links import Link
from offboard.core.plan import GuardName, Plan
from offboard.core.planning import PlanContext, plan
from offboard.core.policy import (
    DEPROVISIONING_KINDS,
    LINK_KINDS,
    ActionKind,
    Policy,
    Scope,
    Thresholds,
)
from offboard.core.simulation import apply_plan
from offboard.core.snapshots import SourceSnapshot, TargetSnapshot
from offboard.core.verdicts import in_scope_domains
from tests.core.builders import NOW, account, aid, deactivated_link, email, identity, iid, link
from tests.core.builders import source as make_source
from tests.core.builders import target as make_target


@dataclass(frozen=True)
class World:
    source: SourceSnapshot
    target: TargetSnapshot
    links: tuple[Link, ...]
    policy: Policy


LOCKOUTS = st.sampled_from(list(Lockout))
CLAIMS = st.sampled_from(list(Claim))
SOURCES = st.sampled_from(list(ManagementSource))
MEMBERSHIPS = st.sampled_from(list(Membership))
STATUSES = st.sampled_from([AccountStatus.ACTIVE, AccountStatus.ACTIVE, AccountStatus.INACTIVE])
ROLES = st.sampled_from([frozenset(), frozenset({"atlassian/org-admin"})])
GROUPS = st.sampled_from([frozenset({"/staff"}), frozenset({"/alumni"})])
CLIENTS = st.sampled_from([None, None, None, "ci"])
KINDS = st.sampled_from(["deactivate", "suspend", "scim_deactivate"])
CHOICE = st.integers(0, 5)
BOOLS = st.booleans()


@st.composite
def identities(draw: st.DrawFn, n: int) -> Identity | None:
    if draw(CHOICE) == 0:
        return None
    emails = (email(n), email(n).upper(), f"moved{n}@acme.test", email(max(1, n - 1)))
    return identity(
        n,
        enabled=draw(BOOLS),
        email=emails[draw(st.integers(0, 3))],
        lockout=draw(LOCKOUTS),
        disable_confirmed=draw(BOOLS),
        service_account_client_id=draw(CLIENTS),
        groups=draw(GROUPS),
    )


@st.composite
def accounts(draw: st.DrawFn, n: int) -> Account | None:
    if draw(CHOICE) == 0:
        return None
    scim = ScimLink("d", f"s{n}", active=draw(BOOLS)) if draw(BOOLS) else None
    return account(
        n,
        email=email(n, "gmail.example") if draw(CHOICE) == 0 else email(n),
        status=draw(STATUSES),
        claim=draw(CLAIMS),
        management_source=draw(SOURCES),
        membership=draw(MEMBERSHIPS),
        scim=scim,
        pending_deletion=draw(CHOICE) == 0,
        platform_roles=draw(ROLES),
    )


@st.composite
def links_for(draw: st.DrawFn, n: int) -> Link | None:
    choice = draw(st.integers(0, 4))
    if choice == 0:
        return None
    if choice == 4:  # linked to the previous person's account: shared or crossed links
        return link(n, account_id=aid(max(1, n - 1)))
    if choice == 1:
        return link(n)
    if choice == 2:
        return deactivated_link(n, kind=draw(KINDS), days_ago=draw(st.integers(0, 40)))
    return link(n, leaving_since=NOW - timedelta(days=draw(st.integers(0, 3))))


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    return Policy(
        protected_emails=frozenset({email(1)}) if draw(BOOLS) else frozenset(),
        protected_account_ids=frozenset({"acc-0002"}) if draw(BOOLS) else frozenset(),
        allow_org_admins=draw(BOOLS),
        scope=Scope(groups=frozenset({"/staff"})) if draw(BOOLS) else Scope(),
        grace_period=timedelta(days=2) if draw(BOOLS) else timedelta(0),
        reactivate=draw(BOOLS),
        delete_after=timedelta(days=10) if draw(BOOLS) else None,
        scim_directory_configured=draw(BOOLS),
        adopt_unlinked=draw(BOOLS),
        permanent_lockout_is_leaver=draw(BOOLS),
        thresholds=Thresholds(
            max_deactivations=draw(st.integers(0, 6)),
            max_deactivation_percent=50.0 if draw(BOOLS) else 5.0,
            min_population=draw(st.integers(0, 8)),
        ),
    )


@st.composite
def worlds(draw: st.DrawFn) -> World:
    size = draw(st.integers(1, 10))
    people = [
        (n, draw(identities(n)), draw(accounts(n)), draw(links_for(n))) for n in range(1, size + 1)
    ]
    deleted = frozenset(iid(n) for n, i, _, _ in people if i is None and draw(BOOLS))
    return World(
        source=make_source(*(i for _, i, _, _ in people if i is not None), deleted=deleted),
        target=make_target(*(a for _, _, a, _ in people if a is not None)),
        links=tuple(lk for _, _, _, lk in people if lk is not None),
        policy=draw(policies()),
    )


def plan_of(world: World, overrides: frozenset[GuardName] = frozenset()) -> Plan:
    context = PlanContext(now=NOW, overrides=overrides)
    return plan(world.source, world.target, world.links, world.policy, context)


@settings(max_examples=100, deadline=None)
@given(worlds())
def test_planning_is_deterministic(world: World) -> None:
    assert plan_of(world) == plan_of(world)


@settings(max_examples=100, deadline=None)
@given(worlds(), st.randoms(use_true_random=False))
def test_input_order_changes_nothing(world: World, rng: st.random.Random) -> None:  # type: ignore[name-defined]
    identities_, accounts_, links_ = (
        list(world.source.identities),
        list(world.target.accounts),
        list(world.links),
    )
    for items in (identities_, accounts_, links_):
        rng.shuffle(items)
    shuffled = World(
        source=make_source(*identities_, deleted=world.source.deleted),
        target=make_target(*accounts_),
        links=tuple(links_),
        policy=world.policy,
    )
    original, permuted = plan_of(world), plan_of(shuffled)
    assert permuted == original
    assert permuted.fingerprint == original.fingerprint


@settings(max_examples=100, deadline=None)
@given(worlds())
def test_protected_and_foreign_accounts_never_get_an_action(world: World) -> None:
    pol = world.policy
    domains = in_scope_domains(pol.domains, world.target.verified_domains)
    untouchable = {
        a.id
        for a in world.target.accounts
        if a.id in pol.protected_account_ids
        or a.normalised_email in pol.protected_emails
        or a.id == world.target.key_owner_account_id
        or (a.is_org_admin and not pol.allow_org_admins)
        or a.domain not in domains
    }
    touched = {a.account_id for a in plan_of(world).actions if a.kind not in LINK_KINDS}
    assert not touched & untouchable


@settings(max_examples=100, deadline=None)
@given(worlds(), st.sampled_from([frozenset(), frozenset({GuardName.MAX_DEACTIVATIONS})]))
def test_no_unblocked_plan_exceeds_a_threshold(
    world: World, overrides: frozenset[GuardName]
) -> None:
    result = plan_of(world, overrides=overrides)
    if result.is_blocked:
        return
    removals = sum(1 for a in result.actions if a.kind in DEPROVISIONING_KINDS)
    limits = world.policy.thresholds
    if GuardName.MAX_DEACTIVATIONS not in overrides:
        assert removals <= limits.max_deactivations
    linked = {lk.account_id for lk in world.links} | {
        a.account_id for a in result.actions if a.kind is ActionKind.LINK
    }
    if linked and len(linked) >= limits.min_population:
        assert 100.0 * removals / len(linked) <= limits.max_deactivation_percent


@settings(max_examples=200, deadline=None)
@given(worlds())
def test_plan_then_apply_then_replan_is_empty(world: World) -> None:
    first = plan_of(world)
    new_target, new_links = apply_plan(first, world.source, world.target, world.links, NOW)
    second = plan(world.source, new_target, new_links, world.policy, PlanContext(now=NOW))
    assert second.actions == ()
    assert second.link_updates == ()
