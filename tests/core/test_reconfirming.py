"""Whether an action still stands, judged against a fresh read of its person."""

from __future__ import annotations

import pytest

from offboard.core.accounts import AccountId
from offboard.core.identities import Identity, IdentityId, Lockout
from offboard.core.plan import Action, Rule
from offboard.core.policy import ActionKind
from offboard.core.reconfirming import needs_reconfirming, reason_to_skip


def _action(kind: ActionKind, rule: Rule = Rule.IDENTITY_DISABLED) -> Action:
    return Action(kind, IdentityId("id-1"), AccountId("acc-1"), "a@example.com", rule, "why")


def _person(enabled: bool, lockout: Lockout = Lockout.NONE) -> Identity:
    return Identity(IdentityId("id-1"), "a", "a@example.com", enabled, lockout=lockout)


@pytest.mark.parametrize(
    ("fresh", "skipped"),
    [
        (None, False),  # deleted (a confirmed 404): still a leaver
        (_person(False), False),  # still disabled
        (_person(False, Lockout.PERMANENT), False),
        (_person(False, Lockout.TEMPORARY), True),  # a lockout is not a leave
        (_person(True), True),  # re-enabled: not deactivated
    ],
)
def test_deprovisioning_stands_only_while_the_person_is_still_gone(
    fresh: Identity | None, skipped: bool
) -> None:
    for kind in (ActionKind.DEACTIVATE, ActionKind.SUSPEND, ActionKind.SCIM_DEACTIVATE):
        assert (reason_to_skip(_action(kind), fresh) is not None) is skipped


def test_an_enabled_person_who_left_the_scope_is_left_to_the_next_pass() -> None:
    action = _action(ActionKind.DEACTIVATE, Rule.IDENTITY_LEFT_SCOPE)
    assert reason_to_skip(action, _person(True)) is None


@pytest.mark.parametrize(
    ("fresh", "skipped"), [(None, True), (_person(False), True), (_person(True), False)]
)
def test_giving_access_back_stands_only_while_the_person_is_enabled(
    fresh: Identity | None, skipped: bool
) -> None:
    assert (reason_to_skip(_action(ActionKind.REACTIVATE), fresh) is not None) is skipped


def test_link_bookkeeping_is_never_re_confirmed() -> None:
    assert not needs_reconfirming(_action(ActionKind.LINK))
    assert needs_reconfirming(_action(ActionKind.DEACTIVATE))
    assert needs_reconfirming(_action(ActionKind.RESTORE))


@pytest.mark.parametrize(
    "fresh", [None, _person(True), _person(False, Lockout.TEMPORARY), _person(False)]
)
def test_an_operator_s_cutoff_stands_whatever_keycloak_says(fresh: Identity | None) -> None:
    """A cut-off is for someone Keycloak still has enabled: an act that waited past
    ``reconfirm_after`` (behind a re-check or a pass) used to be skipped as "enabled in
    Keycloak again", and its request reported done with nobody cut off."""
    for kind in (ActionKind.DEACTIVATE, ActionKind.SUSPEND, ActionKind.SCIM_DEACTIVATE):
        assert reason_to_skip(_action(kind, Rule.MANUAL_CUTOFF), fresh) is None
