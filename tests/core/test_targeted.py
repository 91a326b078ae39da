"""Targeted snapshots and the candidates the service must confirm before planning."""

from __future__ import annotations

from datetime import timedelta

from offboard.core.accounts import AccountStatus
from offboard.core.identities import Lockout
from offboard.core.links import Link
from offboard.core.plan import GuardName, Rule
from offboard.core.planning import candidates_to_confirm
from offboard.core.policy import ActionKind, Thresholds
from offboard.core.snapshots import SourceSnapshot, TargetSnapshot
from tests.core.builders import (
    account,
    aid,
    deactivated_link,
    identity,
    iid,
    link,
    make_plan,
    only_action,
    people,
    policy,
    source,
    target,
    targeted,
)


def test_a_targeted_snapshot_speaks_only_for_its_ids() -> None:
    _, accounts, links = people(1, 2, 3)
    src = targeted(identity(2, disabled=True), ids=[iid(2)])
    result = make_plan(src, target(*accounts), links, previous_source_count=1000)
    assert [(a.kind, a.identity_id) for a in result.actions] == [(ActionKind.DEACTIVATE, iid(2))]
    assert not result.entries, "identities 1 and 3 are simply not known, not absent"
    assert not result.is_blocked
    (drop,) = [g for g in result.guards if g.name is GuardName.SOURCE_COUNT_DROP]
    assert not drop.tripped
    assert "not applied" in drop.message


def test_a_targeted_absence_without_404_is_blocked() -> None:
    _, accounts, links = people(1, 2)
    result = make_plan(targeted(ids=[iid(1)]), target(*accounts), links)
    assert [(e.rule, e.identity_id) for e in result.entries] == [(Rule.ABSENCE_UNCONFIRMED, iid(1))]


def test_a_targeted_deletion_is_acted_on() -> None:
    _, accounts, links = people(1, 2)
    src = targeted(ids=[iid(1)], deleted=frozenset({iid(1)}))
    (action,) = make_plan(src, target(*accounts), links).actions
    assert (action.identity_id, action.rule) == (iid(1), Rule.IDENTITY_DELETED)


def test_a_targeted_snapshot_makes_no_new_links_and_reports_no_strays() -> None:
    src = targeted(identity(1), ids=[iid(1)])
    result = make_plan(src, target(account(1), account(9)))
    assert not result.actions
    assert not result.entries


class TestCandidatesToConfirm:
    def test_unconfirmed_disables_with_access_and_unconfirmed_absences(self) -> None:
        unconfirmed = identity(1, enabled=False, lockout=Lockout.UNKNOWN)
        locked = identity(2, enabled=False, lockout=Lockout.TEMPORARY)
        confirmed = identity(3, disabled=True)
        fine = identity(4)
        src = source(unconfirmed, locked, confirmed, fine, deleted=frozenset({iid(6)}))
        tgt = target(*(account(n) for n in range(1, 7)))
        links = [link(n) for n in range(1, 7)]
        assert candidates_to_confirm(src, tgt, links, policy()) == {iid(1), iid(2), iid(5)}

    def test_unconfirmed_disables_without_access_need_no_read(self) -> None:
        src = source(identity(1, enabled=False))
        tgt = target(account(1, status=AccountStatus.INACTIVE))
        assert candidates_to_confirm(src, tgt, [link(1)], policy()) == frozenset()

    def test_an_unlinked_disable_that_would_match_is_a_candidate(self) -> None:
        src = source(identity(1, enabled=False), identity(2, enabled=False))
        tgt = target(account(1), account(3))
        assert candidates_to_confirm(src, tgt, [], policy()) == {iid(1)}

    def test_targeted_snapshots_only_name_their_own_ids(self) -> None:
        src = targeted(identity(1, enabled=False), ids=[iid(1), iid(2)])
        tgt = target(account(1), account(2), account(3))
        links = [link(1), link(2), link(3)]
        assert candidates_to_confirm(src, tgt, links, policy()) == {iid(1), iid(2)}

    def test_service_accounts_are_never_candidates(self) -> None:
        robot = identity(1, enabled=False, service_account_client_id="ci")
        assert (
            candidates_to_confirm(source(robot), target(account(1)), [link(1)], policy()) == set()
        )

    def test_a_confirmed_read_then_plans_the_action(self) -> None:
        before = source(identity(1, enabled=False, lockout=Lockout.UNKNOWN))
        assert candidates_to_confirm(before, target(account(1)), [link(1)], policy()) == {iid(1)}
        after = source(identity(1, disabled=True))
        (action,) = make_plan(after, target(account(1)), [link(1)]).actions
        assert action.account_id == aid(1)


class TestDeleteAfterForDisabledLeavers:
    """Issue 19.11: a deactivated leaver's disable must be confirmed again for delete_after."""

    def _world(self, days_ago: int) -> tuple[SourceSnapshot, TargetSnapshot, list[Link]]:
        listed = source(identity(1, enabled=False, lockout=Lockout.UNKNOWN))
        gone = target(account(1, status=AccountStatus.INACTIVE))
        return listed, gone, [deactivated_link(1, days_ago=days_ago)]

    def test_a_disable_due_for_deletion_is_confirmed(self) -> None:
        src, tgt, links = self._world(days_ago=31)
        after = policy(delete_after=timedelta(days=30))
        assert candidates_to_confirm(src, tgt, links, after) == {iid(1)}

    def test_confirmed_it_plans_the_deletion(self) -> None:
        _, tgt, links = self._world(days_ago=31)
        confirmed = source(identity(1, disabled=True))
        action = only_action(make_plan(confirmed, tgt, links, policy(delete_after=timedelta(30))))
        assert (action.kind, action.rule) == (ActionKind.DELETE, Rule.DELETE_AFTER)

    def test_never_by_default(self) -> None:
        src, tgt, links = self._world(days_ago=400)
        assert candidates_to_confirm(src, tgt, links, policy()) == frozenset()
        assert not make_plan(source(identity(1, disabled=True)), tgt, links).actions

    def test_not_before_delete_after_nor_twice(self) -> None:
        src, tgt, links = self._world(days_ago=29)
        after = policy(delete_after=timedelta(days=30))
        assert candidates_to_confirm(src, tgt, links, after) == frozenset()
        src, _, links = self._world(days_ago=31)
        pending = target(account(1, status=AccountStatus.INACTIVE, pending_deletion=True))
        assert candidates_to_confirm(src, pending, links, after) == frozenset()

    def test_a_re_enabled_person_is_not_deleted(self) -> None:
        _, tgt, links = self._world(days_ago=31)
        back = source(identity(1))
        after = policy(delete_after=timedelta(days=30))
        assert candidates_to_confirm(back, tgt, links, after) == frozenset()
        assert all(a.kind is not ActionKind.DELETE for a in make_plan(back, tgt, links).actions)


def _wave_of_leavers(count: int) -> tuple[SourceSnapshot, TargetSnapshot, list[Link]]:
    numbers = range(1, count + 1)
    _, accounts, links = people(*numbers)
    leavers = [identity(n, disabled=True) for n in numbers]
    return targeted(*leavers, ids=[iid(n) for n in numbers]), target(*accounts), links


def test_a_wave_is_measured_against_every_link_in_the_store_not_only_its_own() -> None:
    src, tgt, links = _wave_of_leavers(60)
    loose = policy(thresholds=Thresholds(max_deactivations=1000, max_deactivation_percent=10.0,
                                         min_population=50))  # fmt: skip
    alone = make_plan(src, tgt, links, loose)
    assert [g.name for g in alone.blocked_by] == [GuardName.MAX_DEACTIVATION_PERCENT]
    among_many = make_plan(src, tgt, links, loose, linked_population=1000)
    assert not among_many.is_blocked  # 60 of 1,000 linked accounts: 6 %
    (percent,) = [g for g in among_many.guards if g.name is GuardName.MAX_DEACTIVATION_PERCENT]
    assert "60 of 1000 linked accounts" in percent.message
    among_few = make_plan(src, tgt, links, loose, linked_population=300)
    assert [g.name for g in among_few.blocked_by] == [GuardName.MAX_DEACTIVATION_PERCENT]


def test_a_wave_above_max_deactivations_is_blocked_as_a_full_pass_would_be() -> None:
    src, tgt, links = _wave_of_leavers(30)
    strict = policy(thresholds=Thresholds(max_deactivations=25, min_population=1000))
    result = make_plan(src, tgt, links, strict, linked_population=10_000)
    assert [g.name for g in result.blocked_by] == [GuardName.MAX_DEACTIVATIONS]
    assert len(result.actions) == 30
