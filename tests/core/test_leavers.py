"""Who is a leaver, and what each account class gets (DESIGN.md section 4)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from offboard.core.accounts import (
    Account,
    AccountClass,
    AccountStatus,
    Claim,
    ManagementSource,
    ScimLink,
)
from offboard.core.identities import Lockout
from offboard.core.plan import EntryStatus, Rule
from offboard.core.policy import DEFAULT_ACTIONS, ActionKind, Policy, Scope
from tests.core.builders import (
    DOMAIN,
    NOW,
    account,
    aid,
    email,
    identity,
    iid,
    link,
    make_plan,
    only_action,
    only_entry,
    policy,
    source,
    target,
)


def test_a_fine_linked_person_gives_an_empty_plan() -> None:
    result = make_plan(source(identity(1)), target(account(1)), [link(1)])
    assert not result.actions
    assert not result.entries
    assert not result.link_updates
    assert not result.is_blocked


def test_a_confirmed_disable_deactivates_the_managed_account() -> None:
    result = make_plan(source(identity(1, disabled=True)), target(account(1)), [link(1)])
    action = only_action(result)
    assert (action.kind, action.rule) == (ActionKind.DEACTIVATE, Rule.IDENTITY_DISABLED)
    assert (action.identity_id, action.account_id, action.email) == (iid(1), aid(1), email(1))
    assert action.reason.startswith("offboard: Keycloak user user1 (id kc-0001) was disabled")
    assert "realm acme" in action.reason
    assert "rule identity-disabled" in action.reason
    assert "planned 2026-11-28T15:00Z" in action.reason
    assert len(action.reason) <= 200


def test_reasons_stay_under_200_characters_with_long_names() -> None:
    long_user = identity(1, disabled=True, username="x" * 300)
    action = only_action(make_plan(source(long_user), target(account(1)), [link(1)]))
    assert len(action.reason) <= 200
    assert action.reason.endswith("planned 2026-11-28T15:00Z")


def test_a_confirmed_deletion_deactivates_the_account() -> None:
    result = make_plan(source(deleted=frozenset({iid(1)})), target(account(1)), [link(1)])
    action = only_action(result)
    assert (action.kind, action.rule) == (ActionKind.DEACTIVATE, Rule.IDENTITY_DELETED)
    assert "user1@acme.test (id kc-0001) was deleted" in action.reason


def test_an_unconfirmed_disable_is_blocked() -> None:
    unconfirmed = identity(1, enabled=False, disable_confirmed=False)
    entry = only_entry(make_plan(source(unconfirmed), target(account(1)), [link(1)]))
    assert (entry.status, entry.rule) == (EntryStatus.BLOCKED, Rule.DISABLE_UNCONFIRMED)


def test_a_disable_with_an_unknown_lockout_is_unconfirmed() -> None:
    unknown = identity(1, disabled=True, lockout=Lockout.UNKNOWN)
    entry = only_entry(make_plan(source(unknown), target(account(1)), [link(1)]))
    assert entry.rule is Rule.DISABLE_UNCONFIRMED


def test_a_linked_identity_missing_from_the_read_is_blocked_until_404() -> None:
    entry = only_entry(make_plan(source(), target(account(1)), [link(1)]))
    assert (entry.status, entry.rule) == (EntryStatus.BLOCKED, Rule.ABSENCE_UNCONFIRMED)
    assert entry.identity_id == iid(1)


def test_a_temporarily_locked_user_is_not_a_leaver() -> None:
    locked = identity(1, disabled=True, lockout=Lockout.TEMPORARY)
    entry = only_entry(make_plan(source(locked), target(account(1)), [link(1)]))
    assert (entry.status, entry.rule) == (EntryStatus.SKIPPED, Rule.TEMPORARILY_LOCKED)


@pytest.mark.parametrize("confirmed", [True, False])
def test_a_permanent_lockout_is_skipped_by_default(confirmed: bool) -> None:
    locked = identity(1, enabled=False, disable_confirmed=confirmed, lockout=Lockout.PERMANENT)
    entry = only_entry(make_plan(source(locked), target(account(1)), [link(1)]))
    assert entry.rule is Rule.PERMANENTLY_LOCKED


def test_a_permanent_lockout_is_a_leave_when_the_policy_says_so() -> None:
    locked = identity(1, disabled=True, lockout=Lockout.PERMANENT)
    pol = policy(permanent_lockout_is_leaver=True)
    action = only_action(make_plan(source(locked), target(account(1)), [link(1)], pol))
    assert action.rule is Rule.IDENTITY_DISABLED


def test_a_service_account_user_is_never_a_leaver() -> None:
    robot = identity(1, disabled=True, service_account_client_id="ci-bot")
    entry = only_entry(make_plan(source(robot), target(account(1)), [link(1)]))
    assert (entry.status, entry.rule) == (EntryStatus.SKIPPED, Rule.SERVICE_ACCOUNT)


def test_a_disabled_user_whose_account_has_no_access_needs_nothing() -> None:
    gone = account(1, status=AccountStatus.INACTIVE)
    result = make_plan(source(identity(1, disabled=True)), target(gone), [link(1)])
    assert not result.actions
    assert not result.entries


@pytest.mark.parametrize(
    ("account_changes", "expected"),
    [
        ({"claim": Claim.UNMANAGED}, ActionKind.SUSPEND),
        ({"management_source": ManagementSource.GOOGLE}, ActionKind.SUSPEND),
        ({"claim": Claim.MANAGED}, ActionKind.DEACTIVATE),
        ({"scim": ScimLink("dir-1", "scim-1")}, ActionKind.SCIM_DEACTIVATE),
    ],
    ids=["unmanaged", "google-synced", "managed", "scim-linked"],
)
def test_each_account_class_gets_its_action(
    account_changes: dict[str, object], expected: ActionKind
) -> None:
    pol = policy(scim_directory_configured=True)
    acc = account(1, **account_changes)
    action = only_action(make_plan(source(identity(1, disabled=True)), target(acc), [link(1)], pol))
    assert action.kind is expected


def test_a_scim_linked_account_without_a_directory_key_is_blocked() -> None:
    acc = account(1, scim=ScimLink("dir-1", "scim-1"))
    entry = only_entry(make_plan(source(identity(1, disabled=True)), target(acc), [link(1)]))
    assert (entry.status, entry.rule) == (EntryStatus.BLOCKED, Rule.SCIM_KEY_MISSING)


def test_a_class_without_an_action_is_reported_not_acted_on() -> None:
    actions = dict(DEFAULT_ACTIONS) | {AccountClass.GOOGLE_SYNCED: None}
    acc = account(1, management_source=ManagementSource.GOOGLE)
    pol = policy(actions=actions)
    entry = only_entry(make_plan(source(identity(1, disabled=True)), target(acc), [link(1)], pol))
    assert (entry.status, entry.rule) == (EntryStatus.SKIPPED, Rule.NO_ACTION_FOR_CLASS)


@pytest.mark.parametrize(
    ("scope", "changes"),
    [
        (Scope(groups=frozenset({"/staff"})), {"groups": frozenset({"/alumni"})}),
        (Scope(attribute=("employee", "yes")), {"attributes": {"employee": ("no",)}}),
        (Scope(groups=frozenset({"/staff"})), {"groups": frozenset({"/staff/eng"})}),
    ],
    ids=["group", "attribute", "subgroup-is-not-a-direct-member"],
)
def test_leaving_the_scope_is_a_leave(scope: Scope, changes: dict[str, object]) -> None:
    pol = policy(scope=scope)
    action = only_action(
        make_plan(source(identity(1, **changes)), target(account(1)), [link(1)], pol)
    )
    assert action.rule is Rule.IDENTITY_LEFT_SCOPE


@pytest.mark.parametrize(
    ("scope", "changes"),
    [
        (Scope(groups=frozenset({"/staff"})), {"groups": frozenset({"/staff"})}),
        (Scope(groups=frozenset({"/staff", "/staff/eng"})), {"groups": frozenset({"/staff/eng"})}),
        (Scope(attribute=("employee", "yes")), {"attributes": {"employee": ("yes", "x")}}),
    ],
    ids=["group", "listed-subgroup", "attribute"],
)
def test_staying_in_scope_is_fine(scope: Scope, changes: dict[str, object]) -> None:
    pol = policy(scope=scope)
    result = make_plan(source(identity(1, **changes)), target(account(1)), [link(1)], pol)
    assert not result.actions
    assert not result.entries


def test_a_linked_account_missing_from_a_whole_read_is_blocked() -> None:
    entry = only_entry(make_plan(source(identity(1, disabled=True)), target(), [link(1)]))
    assert (entry.status, entry.rule) == (EntryStatus.BLOCKED, Rule.LINKED_ACCOUNT_MISSING)


def test_a_linked_account_missing_from_a_partial_read_says_nothing() -> None:
    result = make_plan(source(identity(1, disabled=True)), target(complete=False), [link(1)])
    assert not result.actions
    assert not result.entries


class TestGracePeriod:
    pol = policy(grace_period=timedelta(days=2))

    def test_the_first_sighting_starts_the_clock(self) -> None:
        result = make_plan(
            source(identity(1, disabled=True)), target(account(1)), [link(1)], self.pol
        )
        entry = only_entry(result)
        assert (entry.status, entry.rule) == (EntryStatus.SKIPPED, Rule.GRACE_PERIOD)
        assert "2026-11-30T15:00Z" in entry.reason
        assert result.link_updates == (link(1, leaving_since=NOW),)

    def test_inside_the_grace_period_nothing_happens(self) -> None:
        marked = link(1, leaving_since=NOW - timedelta(days=1))
        result = make_plan(
            source(identity(1, disabled=True)), target(account(1)), [marked], self.pol
        )
        assert only_entry(result).rule is Rule.GRACE_PERIOD
        assert not result.link_updates

    def test_after_the_grace_period_the_account_is_deactivated(self) -> None:
        marked = link(1, leaving_since=NOW - timedelta(days=2))
        result = make_plan(
            source(identity(1, disabled=True)), target(account(1)), [marked], self.pol
        )
        assert only_action(result).kind is ActionKind.DEACTIVATE

    def test_a_fine_identity_clears_the_mark(self) -> None:
        marked = link(1, leaving_since=NOW - timedelta(days=1))
        result = make_plan(source(identity(1)), target(account(1)), [marked], self.pol)
        assert not result.actions
        assert result.link_updates == (link(1),)


def test_accounts_outside_the_verified_domains_are_never_touched() -> None:
    foreign = account(1, email="user1@gmail.example")
    result = make_plan(source(identity(1, disabled=True)), target(foreign), [link(1)])
    entry = only_entry(result)
    assert (entry.status, entry.rule) == (EntryStatus.SKIPPED, Rule.OUTSIDE_DOMAINS)
    assert "gmail.example" in entry.reason


def test_the_policy_domains_narrow_the_verified_ones() -> None:
    tgt = target(account(1), verified_domains=frozenset({DOMAIN, "other.test"}))
    pol = policy(domains=frozenset({"other.test"}))
    entry = only_entry(make_plan(source(identity(1, disabled=True)), tgt, [link(1)], pol))
    assert entry.rule is Rule.OUTSIDE_DOMAINS


def test_a_listed_domain_the_org_did_not_verify_brings_its_unmanaged_accounts_in_scope() -> None:
    contractor = account(1, claim=Claim.UNMANAGED)
    pol = policy(domains=frozenset({DOMAIN}))
    tgt = target(contractor, verified_domains=frozenset({"other.test"}))
    result = make_plan(source(identity(1, disabled=True)), tgt, [link(1)], pol)
    assert only_action(result).kind is ActionKind.SUSPEND


def test_unmanaged_accounts_on_unlisted_unverified_domains_are_never_touched() -> None:
    contractor = account(1, claim=Claim.UNMANAGED)
    tgt = target(contractor, verified_domains=frozenset({"other.test"}))
    entry = only_entry(make_plan(source(identity(1, disabled=True)), tgt, [link(1)]))
    assert entry.rule is Rule.OUTSIDE_DOMAINS


@pytest.mark.parametrize(
    ("pol", "acc", "rule"),
    [
        (
            policy(protected_emails=frozenset({" User1@ACME.test "})),
            account(1),
            Rule.PROTECTED_PRINCIPAL,
        ),
        (
            policy(protected_account_ids=frozenset({"acc-0001"})),
            account(1),
            Rule.PROTECTED_PRINCIPAL,
        ),
        (policy(), account(1, id="acc-key-owner"), Rule.PROTECTED_KEY_OWNER),
        (
            # As settings.policy_model() does: the configured key owner is also among the
            # protected ids, and still gets its own rule (issue 12, point 13).
            policy(protected_account_ids=frozenset({"acc-key-owner"})),
            account(1, id="acc-key-owner"),
            Rule.PROTECTED_KEY_OWNER,
        ),
        (
            policy(),
            account(1, platform_roles=frozenset({"atlassian/org-admin"})),
            Rule.PROTECTED_ORG_ADMIN,
        ),
        (policy(), account(1, platform_roles=None), Rule.PROTECTED_ORG_ADMIN),
    ],
    ids=["email", "account-id", "key-owner", "key-owner-configured", "org-admin", "roles-unknown"],
)
def test_protected_principals_are_skipped(pol: Policy, acc: Account, rule: Rule) -> None:
    lnk = link(1, account_id=acc.id)
    result = make_plan(source(identity(1, disabled=True)), target(acc), [lnk], pol)
    entry = only_entry(result)
    assert (entry.status, entry.rule) == (EntryStatus.SKIPPED, rule)


def test_org_admins_are_fair_game_when_allowed() -> None:
    admin = account(1, platform_roles=frozenset({"atlassian/org-admin"}))
    pol = policy(allow_org_admins=True)
    assert only_action(make_plan(source(identity(1, disabled=True)), target(admin), [link(1)], pol))
