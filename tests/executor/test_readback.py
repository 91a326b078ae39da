"""target_state_holds: the wanted state per action kind."""

from __future__ import annotations

import pytest

from offboard.core.accounts import AccountStatus, Membership, ScimLink
from offboard.core.policy import ActionKind
from offboard.executor import target_state_holds
from tests.executor.fakes import account, action, wanted

SCIM = ScimLink("dir-1", "scim-1")


@pytest.mark.parametrize(
    "kind",
    [
        ActionKind.DEACTIVATE,
        ActionKind.SUSPEND,
        ActionKind.SCIM_DEACTIVATE,
        ActionKind.DELETE,
    ],
)
def test_deprovisioning_holds_only_after_it_happened(kind: ActionKind) -> None:
    active = account(1, scim=SCIM)
    assert not target_state_holds(action(1, kind), active)
    assert target_state_holds(action(1, kind), wanted(active, kind))


@pytest.mark.parametrize(
    ("kind", "undone"),
    [
        (ActionKind.REACTIVATE, account(1, status=AccountStatus.INACTIVE)),
        (ActionKind.RESTORE, account(1, membership=Membership.SUSPENDED)),
        (ActionKind.SCIM_REACTIVATE, account(1, scim=ScimLink("d", "s", active=False))),
    ],
)
def test_reprovisioning_holds_only_after_it_happened(kind: ActionKind, undone: object) -> None:
    assert not target_state_holds(action(1, kind), undone)  # type: ignore[arg-type]
    assert target_state_holds(action(1, kind), account(1, scim=SCIM))


def test_a_missing_account_holds_only_for_a_deletion() -> None:
    assert target_state_holds(action(1, ActionKind.DELETE), None)
    assert not target_state_holds(action(1, ActionKind.DEACTIVATE), None)
    assert not target_state_holds(action(1, ActionKind.REACTIVATE), None)
