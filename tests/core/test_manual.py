"""Operator acts on one account: a manual cut-off, its hold, lifting it, pairings by hand."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from offboard.core.accounts import AccountStatus, Claim
from offboard.core.manual import OneAccount, cutoff_plan, lift_plan
from offboard.core.plan import EntryStatus, GuardName, Rule
from offboard.core.policy import ActionKind, Thresholds
from offboard.core.simulation import link_after_action
from tests.core.builders import (
    DOMAIN,
    NOW,
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


def facts(**changes: Any) -> OneAccount:
    base = OneAccount(
        identity_id=link(1).identity_id, username="ann", account=account(1), link=link(1),
        policy=policy(), verified_domains=frozenset({DOMAIN}), key_owner=None,
        linked_accounts=100, realm="realm acme", now=NOW,
    )  # fmt: skip
    return replace(base, **changes)


def test_a_cutoff_acts_whatever_keycloak_says_and_names_who_and_why() -> None:
    plan = cutoff_plan(facts(), "by alice: left today")
    action = only_action(plan)
    assert (action.kind, action.rule) == (ActionKind.DEACTIVATE, Rule.MANUAL_CUTOFF)
    assert "by alice: left today" in action.reason
    assert not plan.is_blocked


def test_a_cutoff_uses_the_policy_action_for_the_account_class() -> None:
    unmanaged = account(1, claim=Claim.UNMANAGED)
    assert only_action(cutoff_plan(facts(account=unmanaged), "x")).kind is ActionKind.SUSPEND


def test_protected_accounts_are_never_cut_off() -> None:
    admin = account(1, platform_roles=frozenset({"atlassian/org-admin"}))
    entry = only_entry(cutoff_plan(facts(account=admin), "x"))
    assert entry.rule is Rule.PROTECTED_ORG_ADMIN
    listed = facts(policy=policy(protected_emails=frozenset({f"user1@{DOMAIN}"})))
    assert only_entry(cutoff_plan(listed, "x")).rule is Rule.PROTECTED_PRINCIPAL
    owner = facts(key_owner=account(1).id)
    assert only_entry(cutoff_plan(owner, "x")).rule is Rule.PROTECTED_KEY_OWNER
    outside = facts(verified_domains=frozenset({"other.test"}))
    assert only_entry(cutoff_plan(outside, "x")).rule is Rule.OUTSIDE_DOMAINS


def test_the_deprovisioning_guard_counts_a_cutoff() -> None:
    tight = facts(policy=policy(thresholds=Thresholds(max_deactivations=0, min_population=1000)))
    plan = cutoff_plan(tight, "x")
    assert [g.name for g in plan.blocked_by] == [GuardName.MAX_DEACTIVATIONS]


def test_an_account_without_access_needs_nothing() -> None:
    gone = account(1, status=AccountStatus.INACTIVE)
    plan = cutoff_plan(facts(account=gone), "x")
    assert not plan.actions
    assert not plan.entries


def test_the_link_remembers_the_cutoff_and_the_planner_never_gives_it_back() -> None:
    action = only_action(cutoff_plan(facts(), "x"))
    held = link_after_action(link(1), action, NOW)
    assert held is not None
    assert held.cut_off_by_hand
    assert held.deactivated_by_offboard
    gone = account(1, status=AccountStatus.INACTIVE)
    plan = make_plan(source(identity(1)), target(gone), [held], policy(reactivate=True))
    entry = only_entry(plan)
    assert (entry.status, entry.rule) == (EntryStatus.SKIPPED, Rule.MANUAL_CUTOFF_HELD)


def test_lifting_gives_back_with_the_undo_and_clears_the_hold() -> None:
    held = deactivated_link(1, cut_off_by_hand=True)
    gone = account(1, status=AccountStatus.INACTIVE)
    action = only_action(lift_plan(facts(account=gone, link=held), "by bob: mistake"))
    assert (action.kind, action.rule) == (ActionKind.REACTIVATE, Rule.MANUAL_CUTOFF_LIFTED)
    after = link_after_action(held, action, NOW)
    assert after is not None
    assert not after.cut_off_by_hand


def test_lifting_what_was_not_a_cutoff_is_refused() -> None:
    gone = account(1, status=AccountStatus.INACTIVE)
    entry = only_entry(lift_plan(facts(account=gone, link=deactivated_link(1)), "x"))
    assert (entry.status, entry.rule) == (EntryStatus.BLOCKED, Rule.NOT_MANAGEABLE)


def test_a_pairing_by_hand_settles_the_other_claimant() -> None:
    # Two users with one email: one was given the account by hand.
    first, second = identity(1), identity(2, email=f"user1@{DOMAIN}")
    by_hand = link(1, linked_by_hand=True)
    plan = make_plan(source(first, second), target(account(1)), [by_hand])
    entry = only_entry(plan)
    assert (entry.status, entry.rule) == (EntryStatus.SKIPPED, Rule.DECIDED_BY_HAND)
    plain = make_plan(source(first, second), target(account(1)), [link(1)])
    assert only_entry(plain).rule is Rule.ACCOUNT_LINKED_ELSEWHERE
