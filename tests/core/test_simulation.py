"""Simulating a plan: accounts lose or regain access, links remember what offboard did."""

from __future__ import annotations

from datetime import timedelta

from offboard.core.accounts import AccountStatus, Claim, Membership, ScimLink
from offboard.core.plan import Action, Rule
from offboard.core.policy import ActionKind
from offboard.core.simulation import apply_plan, link_after_action
from tests.core.builders import (
    NOW,
    account,
    aid,
    deactivated_link,
    identity,
    iid,
    link,
    make_plan,
    policy,
    source,
    target,
)


def action(kind: ActionKind, email: str | None = "user1@acme.test") -> Action:
    return Action(kind, iid(1), aid(1), email, Rule.IDENTITY_DISABLED, "offboard: test")


def test_a_deprovisioning_action_marks_the_link() -> None:
    after = link_after_action(link(1), action(ActionKind.SUSPEND), NOW)
    assert after == link(
        1, deactivated_by_offboard=True, deactivated_at=NOW, deactivation_kind="suspend"
    )


def test_a_reprovisioning_action_clears_the_mark() -> None:
    was = deactivated_link(1, leaving_since=NOW - timedelta(days=3))
    assert link_after_action(was, action(ActionKind.REACTIVATE), NOW) == link(1)


def test_link_and_relink_make_and_update_links() -> None:
    made = link_after_action(None, action(ActionKind.LINK), NOW)
    assert made is not None
    assert (made.identity_id, made.account_id, made.linked_at) == (iid(1), aid(1), NOW)
    moved = link_after_action(link(1), action(ActionKind.RELINK, "new@acme.test"), NOW)
    assert moved == link(1, email="new@acme.test")
    assert link_after_action(None, action(ActionKind.DEACTIVATE), NOW) is None


def test_delete_keeps_the_record_of_the_deactivation() -> None:
    was = deactivated_link(1)
    assert link_after_action(was, action(ActionKind.DELETE), NOW) == was


def test_apply_plan_takes_access_away_per_class() -> None:
    accounts = [
        account(1),
        account(2, claim=Claim.UNMANAGED),
        account(3, scim=ScimLink("d", "s")),
        account(4),
    ]
    identities = [identity(n, disabled=True) for n in (1, 2, 3)] + [identity(4)]
    links = [link(n) for n in (1, 2, 3, 4)]
    src, tgt = source(*identities), target(*accounts)
    plan = make_plan(src, tgt, links, policy(scim_directory_configured=True))
    new_target, new_links = apply_plan(plan, src, tgt, links, NOW)
    by_id = {a.id: a for a in new_target.accounts}
    assert by_id[aid(1)].status is AccountStatus.INACTIVE
    assert by_id[aid(2)].membership is Membership.SUSPENDED
    assert by_id[aid(3)].scim == ScimLink("d", "s", active=False)
    assert [a.has_access for a in new_target.accounts] == [False, False, False, True]
    assert [link.deactivation_kind for link in new_links] == [
        "deactivate",
        "suspend",
        "scim_deactivate",
        None,
    ]


def test_apply_plan_gives_access_back() -> None:
    src = source(identity(1))
    tgt = target(account(1, status=AccountStatus.INACTIVE))
    links = [deactivated_link(1)]
    plan = make_plan(src, tgt, links, policy(reactivate=True))
    new_target, new_links = apply_plan(plan, src, tgt, links, NOW)
    assert new_target.accounts[0].has_access
    assert new_links == (link(1),)
