"""The licence planner's rules, one by one, on plain data (no I/O)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from offboard.core.accounts import Account, AccountId, Claim
from offboard.core.identities import Identity, IdentityId
from offboard.core.inactivity import (
    InactivityMark,
    InactivityPolicy,
    LicenceInputsView,
    plan_licences,
)
from offboard.core.licences import AccountUsage, ProductUse
from offboard.core.links import Link
from offboard.core.plan import EntryStatus, Plan, Rule
from offboard.core.policy import ActionKind, Policy
from offboard.core.snapshots import SourceSnapshot, TargetSnapshot

NOW = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)
RULES = InactivityPolicy(enabled=True, delete_after=timedelta(days=60))


def plan_for(
    account: Account,
    *,
    idle_days: int | None = 120,
    mark: InactivityMark | None = None,
    rules: InactivityPolicy = RULES,
    policy: Policy | None = None,
    key_owner: str | None = None,
    tokens: int = 0,
    link: Link | None = None,
    identity: Identity | None = None,
) -> Plan:
    identity = identity or Identity(IdentityId("kc-1"), "ina", account.email, True)
    link = link or Link(identity.id, account.id, account.email, NOW - timedelta(days=900))
    used = None if idle_days is None else NOW - timedelta(days=idle_days)
    usage = AccountUsage(account.id, account.email, True, (ProductUse("confluence", used),))
    view = LicenceInputsView(
        SourceSnapshot((identity,), NOW, True),
        TargetSnapshot((account,), NOW, True, key_owner_account_id=key_owner),
        {account.id: usage},
        [link],
        {account.id: mark} if mark else {},
        {account.id: tokens} if tokens else {},
    )
    return plan_licences(view, policy or Policy(), rules, NOW)


ACCOUNT = Account(AccountId("acc-1"), "ina@example.com", added_to_org=NOW - timedelta(days=400))


def kinds(plan: Plan) -> list[tuple[ActionKind, Rule]]:
    return [(a.kind, a.rule) for a in plan.actions]


def test_recent_use_plans_nothing() -> None:
    assert kinds(plan_for(ACCOUNT, idle_days=10)) == []


def test_never_used_counts_from_joining() -> None:
    joined_recently = replace(ACCOUNT, added_to_org=NOW - timedelta(days=5))
    assert kinds(plan_for(joined_recently, idle_days=None)) == []
    assert kinds(plan_for(ACCOUNT, idle_days=None)) == [
        (ActionKind.NOTIFY_INACTIVE, Rule.INACTIVE_WARN)
    ]


def test_removal_waits_for_remove_after() -> None:
    mark = InactivityMark("acc-1", "kc-1", warned_at=NOW - timedelta(days=29))
    assert kinds(plan_for(ACCOUNT, mark=mark)) == []
    mark = replace(mark, warned_at=NOW - timedelta(days=30))
    assert kinds(plan_for(ACCOUNT, mark=mark)) == [(ActionKind.SUSPEND, Rule.INACTIVE_REMOVE)]


def test_a_use_after_the_warning_restarts_with_a_new_warning() -> None:
    mark = InactivityMark("acc-1", "kc-1", warned_at=NOW - timedelta(days=200))
    assert kinds(plan_for(ACCOUNT, idle_days=95, mark=mark)) == [
        (ActionKind.NOTIFY_INACTIVE, Rule.INACTIVE_WARN)
    ]


def test_deactivate_only_managed_accounts() -> None:
    rules = replace(RULES, remove_with=ActionKind.DEACTIVATE)
    mark = InactivityMark("acc-1", "kc-1", warned_at=NOW - timedelta(days=40))
    unmanaged = replace(ACCOUNT, claim=Claim.UNMANAGED)
    assert kinds(plan_for(ACCOUNT, mark=mark, rules=rules)) == [
        (ActionKind.DEACTIVATE, Rule.INACTIVE_REMOVE)
    ]
    assert kinds(plan_for(unmanaged, mark=mark, rules=rules)) == [
        (ActionKind.SUSPEND, Rule.INACTIVE_REMOVE)
    ]


def test_deletion_only_when_configured_and_only_managed() -> None:
    removed = InactivityMark("acc-1", "kc-1", NOW - timedelta(days=100),
                             NOW - timedelta(days=61), "deactivate")  # fmt: skip
    gone = replace(ACCOUNT, status="inactive")  # type: ignore[arg-type]
    assert kinds(plan_for(gone, mark=removed)) == [(ActionKind.DELETE, Rule.INACTIVE_DELETE)]
    assert kinds(plan_for(gone, mark=removed, rules=replace(RULES, delete_after=None))) == []
    unmanaged = replace(gone, claim=Claim.UNMANAGED)
    assert kinds(plan_for(unmanaged, mark=removed)) == []


def test_protected_principals_are_never_acted_on() -> None:
    admin = replace(ACCOUNT, platform_roles=frozenset({"atlassian/org-admin"}))
    for plan in (
        plan_for(admin),
        plan_for(ACCOUNT, key_owner="acc-1"),
        plan_for(ACCOUNT, policy=Policy(protected_emails=frozenset({"ina@example.com"}))),
    ):
        assert plan.actions == ()
        assert [e.status for e in plan.entries] == [EntryStatus.SKIPPED]


def test_exempt_by_group_email_or_account() -> None:
    member = Identity(IdentityId("kc-1"), "ina", "ina@example.com", True,
                      groups=frozenset({"/staff/contractors"}))  # fmt: skip
    for rules, identity in (
        (replace(RULES, exempt_groups=frozenset({"contractors"})), member),
        (replace(RULES, exempt_emails=frozenset({"ina@example.com"})), None),
        (replace(RULES, exempt_account_ids=frozenset({"acc-1"})), None),
    ):
        plan = plan_for(ACCOUNT, rules=rules, identity=identity)
        assert plan.actions == ()
        assert [e.rule for e in plan.entries] == [Rule.INACTIVE_EXEMPT]


def test_leavers_and_disabled_people_are_not_inactive() -> None:
    disabled = Identity(IdentityId("kc-1"), "ina", "ina@example.com", False)
    assert kinds(plan_for(ACCOUNT, identity=disabled)) == []


def test_tokens_only_for_accounts_offboard_deprovisioned() -> None:
    rules = InactivityPolicy(revoke_leaver_tokens=True)
    deprovisioned = Link(IdentityId("kc-1"), ACCOUNT.id, ACCOUNT.email, NOW,
                         deactivated_by_offboard=True)  # fmt: skip
    plan = plan_for(ACCOUNT, rules=rules, tokens=3, link=deprovisioned)
    assert kinds(plan) == [(ActionKind.REVOKE_TOKENS, Rule.LEAVER_TOKENS)]
    assert "holds 3 API tokens" in plan.actions[0].reason
    assert kinds(plan_for(ACCOUNT, rules=rules, tokens=3)) == []  # a current person's
    assert kinds(plan_for(ACCOUNT, rules=InactivityPolicy(), tokens=3, link=deprovisioned)) == []


def test_the_plan_is_deterministic() -> None:
    assert plan_for(ACCOUNT).fingerprint == plan_for(ACCOUNT).fingerprint


def test_no_use_and_no_known_joining_date_is_not_a_guess_at_inactivity() -> None:
    """Atlassian leaves ``added_to_org`` out for orgs on the original user management
    experience: an account with no use on record and no joining date may have joined
    yesterday. No warning, no removal: a skipped entry says why."""
    unknown = replace(ACCOUNT, added_to_org=None)
    plan = plan_for(unknown, idle_days=None)
    assert kinds(plan) == []
    (entry,) = plan.entries
    assert entry.rule is Rule.INACTIVE_UNKNOWN
    assert "no date" in entry.reason
    warned = InactivityMark("acc-1", "kc-1", warned_at=NOW - timedelta(days=40))
    assert kinds(plan_for(unknown, idle_days=None, mark=warned)) == []  # no removal either
