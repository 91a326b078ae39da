"""Coming back and going for good: reactivation of what offboard took, and delete_after."""

from __future__ import annotations

from datetime import timedelta

from offboard.core.accounts import AccountStatus, Claim, Membership, ScimLink
from offboard.core.plan import EntryStatus, Rule
from offboard.core.policy import ActionKind
from tests.core.builders import (
    account,
    deactivated_link,
    identity,
    link,
    make_plan,
    only_action,
    only_entry,
    policy,
    source,
    target,
)


class TestReactivation:
    def test_a_returning_identity_gets_back_what_offboard_took(self) -> None:
        gone = account(1, status=AccountStatus.INACTIVE)
        pol = policy(reactivate=True)
        action = only_action(
            make_plan(source(identity(1)), target(gone), [deactivated_link(1)], pol)
        )
        assert (action.kind, action.rule) == (ActionKind.REACTIVATE, Rule.IDENTITY_RETURNED)

    def test_a_suspension_is_undone_by_restore(self) -> None:
        gone = account(1, claim=Claim.UNMANAGED, membership=Membership.SUSPENDED)
        pol = policy(reactivate=True)
        was = deactivated_link(1, kind="suspend")
        assert (
            only_action(make_plan(source(identity(1)), target(gone), [was], pol)).kind
            is ActionKind.RESTORE
        )

    def test_a_scim_deactivation_is_undone_over_scim(self) -> None:
        gone = account(1, scim=ScimLink("d", "s", active=False))
        pol = policy(reactivate=True, scim_directory_configured=True)
        was = deactivated_link(1, kind="scim_deactivate")
        action = only_action(make_plan(source(identity(1)), target(gone), [was], pol))
        assert action.kind is ActionKind.SCIM_REACTIVATE

    def test_reactivation_is_off_by_default(self) -> None:
        gone = account(1, status=AccountStatus.INACTIVE)
        entry = only_entry(make_plan(source(identity(1)), target(gone), [deactivated_link(1)]))
        assert (entry.status, entry.rule) == (EntryStatus.SKIPPED, Rule.REACTIVATION_DISABLED)

    def test_accounts_offboard_did_not_deactivate_stay_as_they_are(self) -> None:
        gone = account(1, status=AccountStatus.INACTIVE)
        pol = policy(reactivate=True)
        entry = only_entry(make_plan(source(identity(1)), target(gone), [link(1)], pol))
        assert entry.rule is Rule.NOT_DEACTIVATED_BY_OFFBOARD

    def test_an_account_pending_deletion_is_blocked(self) -> None:
        gone = account(1, status=AccountStatus.INACTIVE, pending_deletion=True)
        pol = policy(reactivate=True)
        entry = only_entry(make_plan(source(identity(1)), target(gone), [deactivated_link(1)], pol))
        assert (entry.status, entry.rule) == (EntryStatus.BLOCKED, Rule.NOT_MANAGEABLE)


class TestDeleteAfter:
    pol = policy(delete_after=timedelta(days=30))

    def test_deletes_what_offboard_deactivated_long_enough_ago(self) -> None:
        gone = account(1, status=AccountStatus.INACTIVE)
        was = deactivated_link(1, days_ago=30)
        action = only_action(
            make_plan(source(identity(1, disabled=True)), target(gone), [was], self.pol)
        )
        assert (action.kind, action.rule) == (ActionKind.DELETE, Rule.DELETE_AFTER)

    def test_waits_until_the_time_is_up(self) -> None:
        gone = account(1, status=AccountStatus.INACTIVE)
        was = deactivated_link(1, days_ago=29)
        result = make_plan(source(identity(1, disabled=True)), target(gone), [was], self.pol)
        assert not result.actions

    def test_never_deletes_by_default(self) -> None:
        gone = account(1, status=AccountStatus.INACTIVE)
        was = deactivated_link(1, days_ago=3000)
        assert not make_plan(source(identity(1, disabled=True)), target(gone), [was]).actions

    def test_never_deletes_what_offboard_did_not_deactivate(self) -> None:
        gone = account(1, status=AccountStatus.INACTIVE)
        result = make_plan(source(identity(1, disabled=True)), target(gone), [link(1)], self.pol)
        assert not result.actions

    def test_never_deletes_a_returned_identity_or_twice(self) -> None:
        gone = account(1, status=AccountStatus.INACTIVE)
        was = deactivated_link(1, days_ago=40)
        assert not make_plan(source(identity(1)), target(gone), [was], self.pol).deprovisioning
        pending = account(1, status=AccountStatus.INACTIVE, pending_deletion=True)
        assert not make_plan(
            source(identity(1, disabled=True)), target(pending), [was], self.pol
        ).actions

    def test_unmanaged_accounts_cannot_be_deleted(self) -> None:
        gone = account(1, claim=Claim.UNMANAGED, membership=Membership.SUSPENDED)
        was = deactivated_link(1, kind="suspend", days_ago=40)
        entry = only_entry(
            make_plan(source(identity(1, disabled=True)), target(gone), [was], self.pol)
        )
        assert entry.rule is Rule.NO_ACTION_FOR_CLASS


def test_reactivation_that_would_not_give_access_back_is_blocked() -> None:
    """offboard deactivated it, and someone also suspended it: the undo alone cannot help."""
    gone = account(1, status=AccountStatus.INACTIVE, membership=Membership.SUSPENDED)
    pol = policy(reactivate=True)
    entry = only_entry(make_plan(source(identity(1)), target(gone), [deactivated_link(1)], pol))
    assert (entry.status, entry.rule) == (EntryStatus.BLOCKED, Rule.NOT_MANAGEABLE)
    assert "restore by hand" in entry.reason


def test_access_restored_by_hand_clears_offboards_claim_on_the_account() -> None:
    """Otherwise a later deactivation by someone else would be 'undone' by offboard."""
    result = make_plan(source(identity(1)), target(account(1)), [deactivated_link(1)])
    assert not result.actions
    assert result.link_updates == (link(1),)
