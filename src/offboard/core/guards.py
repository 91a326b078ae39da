"""Plan-wide guards: named limits that refuse a whole plan, loudly, with the numbers.

Every guard is evaluated on every plan and reported, tripped or not. A tripped guard blocks
the plan unless the run lifts it with ``--override-guard NAME``; the actions stay listed
so that a human can review what would have been done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from offboard.core.plan import Action, GuardName, GuardResult
from offboard.core.policy import ActionKind, Thresholds
from offboard.core.snapshots import SnapshotKind, SourceSnapshot, TargetSnapshot

if TYPE_CHECKING:  # provisioning's: a deprovisioning plan does not import it
    from offboard.core.provisioning_model import Directory


def evaluate_guards(
    actions: Sequence[Action],
    source: SourceSnapshot,
    target: TargetSnapshot,
    linked_accounts: int,
    thresholds: Thresholds,
    overrides: frozenset[GuardName],
    previous_source_count: int | None,
) -> tuple[GuardResult, ...]:
    """All five verdicts, in the order of ``GuardName``."""
    removals = sum(1 for action in actions if action.is_deprovisioning)
    results = (
        _max_deactivations(removals, thresholds),
        _max_percent(removals, linked_accounts, thresholds),
        _source_incomplete(source),
        _source_count_drop(source, previous_source_count, thresholds),
        _target_incomplete(target),
    )
    return tuple(_overridden(result, overrides) for result in results)


def _override_hint(name: GuardName) -> str:
    return f"review the plan, then use --override-guard {name} to go ahead"


def _overridden(result: GuardResult, overrides: frozenset[GuardName]) -> GuardResult:
    if not (result.tripped and result.name in overrides):
        return result
    return GuardResult(
        name=result.name,
        tripped=True,
        overridden=True,
        message=f"{result.message} [overridden for this run]",
        observed=result.observed,
        limit=result.limit,
    )


def _result(
    name: GuardName, tripped: bool, message: str, observed: float | None, limit: float | None
) -> GuardResult:
    text = f"{name}: {message}" + (f"; {_override_hint(name)}" if tripped else "")
    return GuardResult(name, tripped, False, text, observed, limit)


def _max_deactivations(removals: int, thresholds: Thresholds) -> GuardResult:
    limit = thresholds.max_deactivations
    tripped = removals > limit
    verb = "exceed" if tripped else "within"
    message = f"{removals} deprovisioning actions, {verb} the limit of {limit}"
    return _result(GuardName.MAX_DEACTIVATIONS, tripped, message, removals, limit)


def _max_percent(removals: int, linked: int, thresholds: Thresholds) -> GuardResult:
    limit = thresholds.max_deactivation_percent
    name = GuardName.MAX_DEACTIVATION_PERCENT
    if linked == 0 or linked < thresholds.min_population:
        message = (
            f"not applied: {linked} linked accounts, fewer than min_population "
            f"{thresholds.min_population}"
        )
        return _result(name, False, message, None, limit)
    percent = 100.0 * removals / linked
    tripped = percent > limit
    verb = "exceeds" if tripped else "within"
    message = (
        f"{removals} of {linked} linked accounts ({percent:.1f}%), {verb} the limit of {limit}%"
    )
    return _result(name, tripped, message, round(percent, 3), limit)


def _source_incomplete(source: SourceSnapshot) -> GuardResult:
    if source.complete:
        return _result(GuardName.SOURCE_INCOMPLETE, False, "the Keycloak read was complete", 1, 1)
    problems = "; ".join(source.problems)[:160] or "no detail given"
    message = f"the Keycloak read was incomplete ({problems}); absence is not a leave"
    return _result(GuardName.SOURCE_INCOMPLETE, True, message, 0, 1)


def _source_count_drop(
    source: SourceSnapshot, previous: int | None, thresholds: Thresholds
) -> GuardResult:
    name = GuardName.SOURCE_COUNT_DROP
    limit = thresholds.max_source_drop_percent
    if source.kind is not SnapshotKind.FULL:
        return _result(name, False, "not applied: targeted snapshot", None, limit)
    if not previous:
        return _result(name, False, "not applied: no earlier full snapshot", None, limit)
    current = len(source.identities)
    drop = max(0.0, 100.0 * (previous - current) / previous)
    tripped = drop > limit
    message = (
        f"Keycloak lists {current} identities against {previous} in the last full snapshot "
        f"({drop:.1f}% fewer), {'beyond' if tripped else 'within'} the limit of {limit}%"
    )
    return _result(name, tripped, message, round(drop, 3), limit)


def _target_incomplete(target: TargetSnapshot) -> GuardResult:
    if target.complete:
        return _result(GuardName.TARGET_INCOMPLETE, False, "the Atlassian read was complete", 1, 1)
    problems = "; ".join(target.problems)[:160] or "no detail given"
    message = f"the Atlassian read was incomplete ({problems})"
    return _result(GuardName.TARGET_INCOMPLETE, True, message, 0, 1)


@dataclass(frozen=True, slots=True)
class ProvisioningThresholds:
    """Blast-radius limits of a provisioning plan (``[provisioning]`` settings)."""

    max_creates: int = 200
    """At most this many SCIM users and groups created in one plan (a first sync overrides)."""
    max_updates: int = 200
    """At most this many SCIM users updated in one plan."""
    max_membership_removals: int = 25
    """At most this many people removed from SCIM groups in one plan."""


def evaluate_provisioning_guards(
    actions: Sequence[Action],
    source_complete: bool,
    source_problems: Sequence[str],
    directory: Directory,
    thresholds: ProvisioningThresholds,
    overrides: frozenset[GuardName],
) -> tuple[GuardResult, ...]:
    """The verdicts of a provisioning plan: counts per kind and both reads whole."""
    creates = sum(1 for a in actions if a.kind in _CREATES)
    updates = sum(1 for a in actions if a.kind is ActionKind.SCIM_UPDATE_USER)
    removals = sum(
        sum(1 for key, _ in a.attributes if key == "member")
        for a in actions
        if a.kind is ActionKind.SCIM_REMOVE_MEMBERS
    )
    results = (
        _counted(GuardName.MAX_CREATES, creates, thresholds.max_creates, "SCIM creates"),
        _counted(GuardName.MAX_UPDATES, updates, thresholds.max_updates, "SCIM user updates"),
        _counted(
            GuardName.MAX_MEMBERSHIP_REMOVALS,
            removals,
            thresholds.max_membership_removals,
            "SCIM group membership removals",
        ),
        _source_incomplete(
            SourceSnapshot((), datetime.min, source_complete, problems=tuple(source_problems))
        ),
        _scim_incomplete(directory),
    )
    return tuple(_overridden(result, overrides) for result in results)


_CREATES = frozenset({ActionKind.SCIM_CREATE_USER, ActionKind.SCIM_CREATE_GROUP})


def _counted(name: GuardName, observed: int, limit: int, what: str) -> GuardResult:
    tripped = observed > limit
    message = f"{observed} {what}, {'exceed' if tripped else 'within'} the limit of {limit}"
    return _result(name, tripped, message, observed, limit)


def _scim_incomplete(directory: Directory) -> GuardResult:
    if directory.complete:
        return _result(GuardName.TARGET_INCOMPLETE, False, "the SCIM read was complete", 1, 1)
    problems = "; ".join(directory.problems)[:160] or "no detail given"
    message = f"the SCIM directory read was incomplete ({problems})"
    return _result(GuardName.TARGET_INCOMPLETE, True, message, 0, 1)
