"""Pairing: by stored link first, then a unique email or attribute match; never a guess."""

from __future__ import annotations

from offboard.core.accounts import AccountStatus
from offboard.core.links import Link
from offboard.core.plan import EntryStatus, Rule
from offboard.core.policy import ActionKind
from tests.core.builders import (
    NOW,
    account,
    aid,
    deactivated_link,
    email,
    identity,
    iid,
    link,
    make_plan,
    policy,
    source,
    target,
)


def test_a_new_identity_is_linked_by_email_case_insensitively() -> None:
    person = identity(1, email="  User1@ACME.test ")
    result = make_plan(source(person), target(account(1)))
    (action,) = result.actions
    assert (action.kind, action.rule) == (ActionKind.LINK, Rule.MATCHED_BY_EMAIL)
    assert result.link_updates == (Link(iid(1), aid(1), email(1), linked_at=NOW),)
    assert not result.entries


def test_a_match_attribute_holds_the_atlassian_email() -> None:
    person = identity(1, email="someone@else.test", attributes={"atlassianEmail": (email(1),)})
    pol = policy(match_attribute="atlassianEmail")
    (action,) = make_plan(source(person), target(account(1)), pol=pol).actions
    assert (action.kind, action.rule) == (ActionKind.LINK, Rule.MATCHED_BY_ATTRIBUTE)


def test_two_identities_with_one_email_are_blocked_not_guessed() -> None:
    twins = source(identity(1), identity(2, email=email(1)))
    result = make_plan(twins, target(account(1)))
    assert not result.actions
    assert not result.link_updates
    assert {(e.status, e.rule, e.identity_id) for e in result.entries} == {
        (EntryStatus.BLOCKED, Rule.AMBIGUOUS_IDENTITIES, iid(1)),
        (EntryStatus.BLOCKED, Rule.AMBIGUOUS_IDENTITIES, iid(2)),
    }


def test_each_twin_is_named_with_the_command_that_decides() -> None:
    # A realm allowing duplicate emails showed two identical rows: no username, no id.
    twins = source(identity(1), identity(2, email=email(1)))
    reasons = sorted(e.reason for e in make_plan(twins, target(account(1))).entries)
    assert len(set(reasons)) == 2
    for n, reason in zip((1, 2), reasons, strict=True):
        assert f"(id {iid(n)})" in reason
        assert "offboard links resolve" in reason


def test_one_email_on_two_accounts_is_blocked_not_guessed() -> None:
    result = make_plan(source(identity(1)), target(account(1), account(2, email=email(1))))
    assert not result.actions
    ((status, rule),) = {(e.status, e.rule) for e in result.entries}
    assert (status, rule) == (EntryStatus.BLOCKED, Rule.AMBIGUOUS_ACCOUNTS)


def test_an_account_linked_to_two_identities_is_never_acted_on() -> None:
    links = [link(1), link(2, account_id=aid(1))]
    result = make_plan(source(identity(1, disabled=True), identity(2)), target(account(1)), links)
    assert not result.actions
    assert {e.rule for e in result.entries} == {Rule.AMBIGUOUS_IDENTITIES}


def test_a_recreated_user_does_not_inherit_the_old_link() -> None:
    """Deleted in Keycloak and re-created with the same email: a new id, not the old person."""
    old_link = deactivated_link(1)
    recreated = identity(2, email=email(1))
    gone = account(1, status=AccountStatus.INACTIVE)
    pol = policy(reactivate=True)
    result = make_plan(
        source(recreated, deleted=frozenset({iid(1)})), target(gone), [old_link], pol
    )
    assert not result.actions, "the new id must neither link nor reactivate the old account"
    (entry,) = result.entries
    assert (entry.status, entry.rule) == (EntryStatus.BLOCKED, Rule.ACCOUNT_LINKED_ELSEWHERE)
    assert (entry.identity_id, entry.account_id) == (iid(2), aid(1))


def test_a_recreated_user_does_not_stop_the_old_ones_deactivation() -> None:
    recreated = identity(2, email=email(1))
    result = make_plan(
        source(recreated, deleted=frozenset({iid(1)})), target(account(1)), [link(1)]
    )
    (action,) = result.actions
    assert (action.kind, action.identity_id, action.rule) == (
        ActionKind.DEACTIVATE,
        iid(1),
        Rule.IDENTITY_DELETED,
    )
    assert {e.rule for e in result.entries} == {Rule.ACCOUNT_LINKED_ELSEWHERE}


def test_an_email_change_keeps_the_link() -> None:
    moved = identity(1, email="new.name@acme.test")
    result = make_plan(source(moved), target(account(1)), [link(1)])
    (action,) = result.actions
    assert (action.kind, action.rule, action.email) == (
        ActionKind.RELINK,
        Rule.EMAIL_CHANGED,
        "new.name@acme.test",
    )
    assert result.link_updates == (link(1, email="new.name@acme.test"),)
    assert not result.entries


def test_an_email_in_other_case_is_not_a_change() -> None:
    result = make_plan(source(identity(1, email="USER1@acme.test")), target(account(1)), [link(1)])
    assert not result.actions


def test_a_deleted_user_is_found_through_the_remembered_email() -> None:
    result = make_plan(source(deleted=frozenset({iid(1)})), target(account(1)), [link(1)])
    (action,) = result.actions
    assert action.email == email(1)


def test_an_active_account_nobody_claims_is_reported_never_linked() -> None:
    result = make_plan(source(), target(account(7)))
    (entry,) = result.entries
    assert (entry.status, entry.rule, entry.account_id) == (
        EntryStatus.SKIPPED,
        Rule.NEVER_LINKED,
        aid(7),
    )


def test_a_leaver_matched_for_the_first_time_is_not_acted_on_by_default() -> None:
    result = make_plan(source(identity(1, disabled=True)), target(account(1)))
    assert not result.actions
    assert not result.link_updates
    (entry,) = result.entries
    assert (entry.rule, entry.identity_id, entry.account_id) == (
        Rule.LEFT_BEFORE_WATCHING,
        iid(1),
        aid(1),
    )


def test_adopt_unlinked_links_and_acts_on_a_leavers_account() -> None:
    pol = policy(adopt_unlinked=True)
    result = make_plan(source(identity(1, disabled=True)), target(account(1)), pol=pol)
    assert [a.kind for a in result.actions] == [ActionKind.DEACTIVATE, ActionKind.LINK]
    assert [u.account_id for u in result.link_updates] == [aid(1)]


def test_no_matching_on_partial_reads() -> None:
    result = make_plan(source(identity(1), complete=False), target(account(1)))
    assert not result.actions
    assert not result.entries


def test_service_accounts_are_not_matched() -> None:
    robot = identity(1, service_account_client_id="ci")
    (entry,) = make_plan(source(robot), target(account(1))).entries
    assert entry.rule is Rule.NEVER_LINKED
