"""A covering Atlassian read (only the accounts a plan needs) decides as the whole walk does.

Over generated worlds (leavers, deletions, absences, lockouts, service accounts, scopes,
grace periods, shared and crossed links, offboard's own deactivations, SCIM links, org
admins, protected accounts, ambiguous emails, accounts missing from the directory), the plan
made from the covering read has the same actions, link updates, guards and entries as the
plan made from the whole walk, except the reports a covering read does not make (module
docstring of ``core.covering``). The covering read is built as the adapter answers it: the
asked ids that exist, and every account holding one of the asked emails.
"""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings

from offboard.core.covering import (
    Needs,
    accounts_needed,
    covered_links,
    walk_requests,
)
from offboard.core.plan import Entry, Plan, Rule
from offboard.core.planning import PlanContext, candidates_to_confirm, plan
from offboard.core.policy import Policy
from offboard.core.snapshots import SnapshotKind, TargetSnapshot
from tests.core.builders import NOW, account, aid, identity, link
from tests.core.builders import source as make_source
from tests.core.builders import target as make_target
from tests.core.test_properties import World, worlds

POLICY = Policy()
NOT_MADE_BY_COVERING = {Rule.NEVER_LINKED, Rule.NOT_DEACTIVATED_BY_OFFBOARD}


def covering(world: World) -> TargetSnapshot:
    """What the adapter's searches would answer for the needs of ``world``."""
    needs = accounts_needed(world.source, world.links, world.policy)
    found = [
        a
        for a in world.target.accounts
        if a.id in needs.account_ids or a.normalised_email in needs.emails
    ]
    return dataclasses.replace(
        world.target,
        accounts=tuple(found),
        kind=SnapshotKind.COVERING,
        asked_accounts=needs.account_ids,
    )


def _plan(world: World, target: TargetSnapshot) -> Plan:
    return plan(world.source, target, world.links, world.policy, PlanContext(now=NOW))


def _reported(entries: tuple[Entry, ...]) -> set[Entry]:
    return {e for e in entries if e.rule not in NOT_MADE_BY_COVERING}


@settings(max_examples=300, deadline=None)
@given(worlds())
def test_a_covering_read_plans_as_the_whole_walk(world: World) -> None:
    walked, covered = _plan(world, world.target), _plan(world, covering(world))
    assert covered.actions == walked.actions
    assert covered.link_updates == walked.link_updates
    assert covered.guards == walked.guards
    assert _reported(covered.entries) == _reported(walked.entries)
    assert set(covered.entries) <= set(walked.entries)


@settings(max_examples=200, deadline=None)
@given(worlds())
def test_a_covering_read_asks_keycloak_to_confirm_the_same_people(world: World) -> None:
    target = covering(world)
    assert candidates_to_confirm(
        world.source, target, world.links, world.policy
    ) == candidates_to_confirm(world.source, world.target, world.links, world.policy)


def test_plainly_fine_people_are_not_read() -> None:
    fine, leaver = identity(1), identity(2, enabled=False, disable_confirmed=True)
    new = identity(3)
    world_links = (link(1), link(2))
    needs = accounts_needed(make_source(fine, leaver, new), world_links, POLICY)
    assert needs.account_ids == {aid(2)}
    assert needs.emails == {new.email}
    assert needs.requests == 2


def test_a_linked_account_asked_but_gone_blocks_the_leaver() -> None:
    """Asked, answered by no search and 404 by id: missing, as when the walk lacks it."""
    leaver = identity(2, enabled=False, disable_confirmed=True)
    target = dataclasses.replace(
        make_target(), kind=SnapshotKind.COVERING, asked_accounts=frozenset({aid(2)})
    )
    made = plan(make_source(leaver), target, [link(2)], POLICY, PlanContext(now=NOW))
    assert [e.rule for e in made.entries] == [Rule.LINKED_ACCOUNT_MISSING]


def test_links_whose_account_was_not_asked_are_not_decided() -> None:
    target = dataclasses.replace(
        make_target(account(1)), kind=SnapshotKind.COVERING, asked_accounts=frozenset()
    )
    assert covered_links([link(1)], target) == []
    assert covered_links([link(1)], make_target(account(1))) == [link(1)]


def test_request_counts() -> None:
    ids = frozenset(f"acc-{n}" for n in range(21))
    assert Needs(ids, frozenset({"a@x"})).requests == 3 + 1
    assert walk_requests(0) == 1
    assert walk_requests(10_000) == 100
    assert walk_requests(10_001) == 101


def test_a_shared_account_is_read_even_between_fine_people() -> None:
    """Two fine identities on one account: the walk blocks it as ambiguous, so must this."""
    one, two = identity(1), identity(2)
    shared = (link(1), link(2, account_id=aid(1)))
    needs = accounts_needed(make_source(one, two), shared, POLICY)
    assert needs.account_ids == {aid(1)}
    world = World(make_source(one, two), make_target(account(1)), shared, POLICY)
    walked, covered = _plan(world, world.target), _plan(world, covering(world))
    assert [e.rule for e in walked.entries] == [Rule.AMBIGUOUS_IDENTITIES] * 2
    assert covered.entries == walked.entries
