"""Properties of the licence planner over generated people: protected and exempt people are
never acted on (only given back), no removal without a warning old enough, no deletion
unless configured, and the same inputs always give the same plan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from offboard.core.accounts import Account, AccountId, AccountStatus, Claim, Membership
from offboard.core.identities import Identity, IdentityId
from offboard.core.inactivity import (
    InactivityMark,
    InactivityPolicy,
    LicenceInputsView,
    plan_licences,
)
from offboard.core.licences import AccountUsage, ProductUse
from offboard.core.links import Link
from offboard.core.plan import Plan, Rule
from offboard.core.policy import DEPROVISIONING_KINDS, ActionKind, Policy, Thresholds
from offboard.core.snapshots import SourceSnapshot, TargetSnapshot

NOW = datetime(2026, 12, 1, tzinfo=UTC)
PROTECTED = "protected@example.com"

person = st.fixed_dictionaries({
    "idle": st.one_of(st.none(), st.integers(0, 800)),
    "enabled": st.booleans(),
    "admin": st.booleans(),
    "protected": st.booleans(),
    "exempt": st.booleans(),
    "managed": st.booleans(),
    "access": st.booleans(),
    "warned": st.one_of(st.none(), st.integers(0, 200)),
    "removed": st.one_of(st.none(), st.integers(0, 200)),
    "deprovisioned": st.booleans(),
    "tokens": st.integers(0, 3),
})  # fmt: skip


def world(people: list[dict[str, Any]], delete: bool) -> tuple[Plan, dict[str, dict[str, Any]]]:
    identities, accounts, links, usages, marks, tokens = [], [], [], {}, {}, {}
    by_account: dict[str, dict[str, Any]] = {}
    for n, p in enumerate(people):
        account_id, email = f"acc-{n}", PROTECTED if p["protected"] else f"p{n}@example.com"
        by_account[account_id] = p
        identities.append(
            Identity(
                IdentityId(f"kc-{n}"),
                f"p{n}",
                email,
                bool(p["enabled"]),
                groups=frozenset({"/exempt"} if p["exempt"] else ()),
            )
        )
        accounts.append(
            Account(
                AccountId(account_id),
                email,
                status=AccountStatus.ACTIVE if p["access"] else AccountStatus.INACTIVE,
                claim=Claim.MANAGED if p["managed"] else Claim.UNMANAGED,
                membership=Membership.ACTIVE,
                platform_roles=frozenset({"atlassian/org-admin"} if p["admin"] else ()),
                added_to_org=NOW - timedelta(days=900),
            )
        )
        links.append(
            Link(
                IdentityId(f"kc-{n}"),
                AccountId(account_id),
                email,
                NOW,
                deactivated_by_offboard=bool(p["deprovisioned"]),
            )
        )
        idle = p["idle"]
        used = None if idle is None else NOW - timedelta(days=int(idle))
        usages[account_id] = AccountUsage(
            account_id, email, True, (ProductUse("confluence", used),)
        )
        warned, removed = p["warned"], p["removed"]
        if warned is not None or removed is not None:
            marks[account_id] = InactivityMark(
                account_id,
                f"kc-{n}",
                None if warned is None else NOW - timedelta(days=int(warned)),
                None if removed is None else NOW - timedelta(days=int(removed)),
                "deactivate" if removed is not None else None,
            )
        tokens[account_id] = int(p["tokens"])
    view = LicenceInputsView(
        SourceSnapshot(tuple(identities), NOW, True),
        TargetSnapshot(tuple(accounts), NOW, True),
        usages,
        links,
        marks,
        tokens,
    )
    rules = InactivityPolicy(
        enabled=True,
        exempt_groups=frozenset({"exempt"}),
        delete_after=timedelta(days=60) if delete else None,
        revoke_leaver_tokens=True,
    )
    policy = Policy(
        protected_emails=frozenset({PROTECTED}), thresholds=Thresholds(max_deactivations=10_000)
    )
    return plan_licences(view, policy, rules, NOW), by_account  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(person, max_size=12), st.booleans())
def test_the_licence_planner_keeps_its_promises(people: list[dict[str, Any]], delete: bool) -> None:
    made, by_account = world(people, delete)
    again, _ = world(people, delete)
    assert made.fingerprint == again.fingerprint
    for action in made.actions:
        p = by_account[action.account_id]
        if action.rule is Rule.LEAVER_TOKENS:
            assert p["deprovisioned"]
            assert p["tokens"]
            continue
        assert p["enabled"], "only current people can be inactive"
        if action.rule is not Rule.INACTIVE_RETURNED:
            assert not p["protected"], "protected principals are never acted on"
            assert not p["admin"], "org admins are protected by default"
            assert not p["exempt"], "exempt people are never acted on"
        if action.rule is Rule.INACTIVE_REMOVE:
            assert action.kind in DEPROVISIONING_KINDS
            assert p["warned"] is not None
            assert int(p["warned"]) >= 30
            assert p["removed"] is None
        if action.kind is ActionKind.DELETE:
            assert delete
            assert p["managed"]
            assert p["removed"] is not None
            assert int(p["removed"]) >= 60
