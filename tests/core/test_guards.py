"""Plan-wide guards trip with the numbers and the override; overrides lift them per run."""

from __future__ import annotations

import pytest

from offboard.core.errors import (
    SourceCountDropped,
    SourceIncomplete,
    TargetIncomplete,
    TooManyDeactivations,
    TooManyDeactivationsPercent,
    UnsafePlan,
    raise_if_unsafe,
)
from offboard.core.plan import DEPROVISIONING_GUARDS, GuardName, Plan
from offboard.core.policy import Thresholds
from tests.core.builders import (
    account,
    identity,
    link,
    make_plan,
    people,
    policy,
    source,
    target,
)


def leavers_plan(total: int, leaving: int, thresholds: Thresholds, **context: object) -> Plan:
    identities, accounts, links = people(*range(1, total + 1))
    for n in range(leaving):
        identities[n] = identity(n + 1, disabled=True)
    pol = policy(thresholds=thresholds)
    return make_plan(source(*identities), target(*accounts), links, pol, **context)


def guard(plan: Plan, name: GuardName) -> tuple[bool, bool, str]:
    (result,) = [g for g in plan.guards if g.name is name]
    return result.tripped, result.overridden, result.message


def test_every_guard_is_reported_even_when_quiet() -> None:
    result = leavers_plan(3, 1, Thresholds())
    assert [g.name for g in result.guards] == list(DEPROVISIONING_GUARDS)
    assert not any(g.tripped for g in result.guards)
    raise_if_unsafe(result)


def test_max_deactivations_trips_with_numbers_and_override() -> None:
    result = leavers_plan(10, 3, Thresholds(max_deactivations=2, min_population=1000))
    tripped, overridden, message = guard(result, GuardName.MAX_DEACTIVATIONS)
    assert (tripped, overridden) == (True, False)
    assert "3 deprovisioning actions" in message
    assert "limit of 2" in message
    assert "--override-guard max-deactivations" in message
    assert result.is_blocked
    assert len(result.deprovisioning) == 3, "the actions stay listed for review"
    with pytest.raises(TooManyDeactivations, match="max-deactivations"):
        raise_if_unsafe(result)


def test_an_override_lifts_a_tripped_guard() -> None:
    overrides = frozenset({GuardName.MAX_DEACTIVATIONS})
    thresholds = Thresholds(max_deactivations=2, min_population=1000)
    result = leavers_plan(10, 3, thresholds, overrides=overrides)
    tripped, overridden, message = guard(result, GuardName.MAX_DEACTIVATIONS)
    assert (tripped, overridden) == (True, True)
    assert "overridden" in message
    assert not result.is_blocked
    raise_if_unsafe(result)


def test_max_deactivation_percent_applies_above_the_population() -> None:
    thresholds = Thresholds(max_deactivation_percent=10.0, min_population=10)
    result = leavers_plan(10, 2, thresholds)
    tripped, _, message = guard(result, GuardName.MAX_DEACTIVATION_PERCENT)
    assert tripped
    assert "2 of 10 linked accounts (20.0%)" in message
    assert "--override-guard max-deactivation-percent" in message
    with pytest.raises(TooManyDeactivationsPercent):
        raise_if_unsafe(result)
    overridden = leavers_plan(
        10, 2, thresholds, overrides=frozenset({GuardName.MAX_DEACTIVATION_PERCENT})
    )
    assert not overridden.is_blocked


def test_max_deactivation_percent_is_not_applied_to_small_populations() -> None:
    result = leavers_plan(10, 5, Thresholds(min_population=11))
    tripped, _, message = guard(result, GuardName.MAX_DEACTIVATION_PERCENT)
    assert not tripped
    assert "not applied" in message


def test_an_incomplete_source_blocks_the_plan() -> None:
    src = source(identity(1), complete=False, problems=("page 3 failed: 503",))
    result = make_plan(src, target(account(1)), [link(1)])
    tripped, _, message = guard(result, GuardName.SOURCE_INCOMPLETE)
    assert tripped
    assert "page 3 failed: 503" in message
    assert "--override-guard source-incomplete" in message
    with pytest.raises(SourceIncomplete):
        raise_if_unsafe(result)
    lifted = make_plan(
        src, target(account(1)), [link(1)], overrides=frozenset({GuardName.SOURCE_INCOMPLETE})
    )
    assert not lifted.is_blocked


def test_a_source_count_drop_blocks_the_plan() -> None:
    identities, accounts, links = people(1, 2, 3, 4, 5, 6, 7, 8)
    result = make_plan(source(*identities), target(*accounts), links, previous_source_count=10)
    tripped, _, message = guard(result, GuardName.SOURCE_COUNT_DROP)
    assert tripped
    assert "8 identities against 10" in message
    assert "20.0% fewer" in message
    assert "--override-guard source-count-drop" in message
    with pytest.raises(SourceCountDropped):
        raise_if_unsafe(result)


def test_a_small_drop_or_a_first_run_passes() -> None:
    identities, accounts, links = people(*range(1, 10))
    small = make_plan(source(*identities), target(*accounts), links, previous_source_count=10)
    first = make_plan(source(*identities), target(*accounts), links)
    assert not guard(small, GuardName.SOURCE_COUNT_DROP)[0]
    assert not guard(first, GuardName.SOURCE_COUNT_DROP)[0]


def test_an_incomplete_target_blocks_the_plan() -> None:
    result = make_plan(source(identity(1)), target(account(1), complete=False), [link(1)])
    tripped, _, message = guard(result, GuardName.TARGET_INCOMPLETE)
    assert tripped
    assert "--override-guard target-incomplete" in message
    with pytest.raises(TargetIncomplete):
        raise_if_unsafe(result)


def test_the_exception_names_every_blocking_guard() -> None:
    src = source(identity(1), complete=False)
    result = make_plan(src, target(account(1), complete=False), [link(1)])
    with pytest.raises(UnsafePlan) as caught:
        raise_if_unsafe(result)
    assert isinstance(caught.value, SourceIncomplete)
    assert "target-incomplete" in str(caught.value)
    assert caught.value.plan is result


@pytest.mark.parametrize("name", DEPROVISIONING_GUARDS)
def test_every_guard_trips_and_is_lifted_by_its_own_override(name: GuardName) -> None:
    """One world that trips all five guards; lifting one leaves the other four blocking."""
    identities, accounts, links = people(*range(1, 11))
    identities[:3] = [identity(n, disabled=True) for n in (1, 2, 3)]
    pol = policy(thresholds=Thresholds(max_deactivations=2, min_population=5))
    src = source(*identities, complete=False)
    tgt = target(*accounts, complete=False)
    blocked = make_plan(src, tgt, links, pol, previous_source_count=20)
    assert {g.name for g in blocked.blocked_by} == set(DEPROVISIONING_GUARDS)
    lifted = make_plan(src, tgt, links, pol, previous_source_count=20, overrides=frozenset({name}))
    assert {g.name for g in lifted.blocked_by} == set(DEPROVISIONING_GUARDS) - {name}
    assert lifted.fingerprint != blocked.fingerprint
