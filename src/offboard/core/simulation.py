"""What the world looks like once a plan has succeeded: for tests, previews and the executor.

``link_after_action`` is the one place that says how a successful action changes a link;
the executor calls it after each action, and ``apply_plan`` uses it to simulate a whole plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from offboard.core.accounts import Account, AccountId, AccountStatus, Membership
from offboard.core.identities import IdentityId
from offboard.core.links import Link
from offboard.core.plan import Action, Plan, Rule
from offboard.core.policy import DEPROVISIONING_KINDS, REPROVISIONING_KINDS, ActionKind
from offboard.core.snapshots import SourceSnapshot, TargetSnapshot


def link_after_action(link: Link | None, action: Action, now: datetime) -> Link | None:
    """The link of the action's pair once the action succeeded (None: there is none)."""
    kind = action.kind
    if kind is ActionKind.LINK:
        if link is not None:
            return link
        return Link(action.identity_id, action.account_id, action.email, linked_at=now)
    if link is None:
        return None
    if kind is ActionKind.RELINK:
        return replace(link, email=action.email)
    if kind is ActionKind.DELETE:
        # Keep how access was taken away: the record of offboard's own deactivation stands.
        return link
    if kind in DEPROVISIONING_KINDS:
        return replace(
            link,
            deactivated_by_offboard=True,
            deactivated_at=now,
            deactivation_kind=str(kind),
            cut_off_by_hand=link.cut_off_by_hand or action.rule is Rule.MANUAL_CUTOFF,
        )
    if kind in REPROVISIONING_KINDS:
        return replace(
            link,
            deactivated_by_offboard=False,
            deactivated_at=None,
            deactivation_kind=None,
            leaving_since=None,
            cut_off_by_hand=False,
        )
    return link


def account_after_action(account: Account, kind: ActionKind) -> Account:
    """The account as Atlassian would report it after the action."""
    if kind is ActionKind.DEACTIVATE:
        return replace(account, status=AccountStatus.INACTIVE)
    if kind is ActionKind.REACTIVATE:
        return replace(account, status=AccountStatus.ACTIVE)
    if kind is ActionKind.SUSPEND:
        return replace(account, membership=Membership.SUSPENDED)
    if kind is ActionKind.RESTORE:
        return replace(account, membership=Membership.ACTIVE)
    if kind is ActionKind.SCIM_DEACTIVATE:
        # The SCIM record goes inactive and Atlassian deactivates the linked account.
        scim = replace(account.scim, active=False) if account.scim else None
        return replace(account, scim=scim, status=AccountStatus.INACTIVE)
    if kind is ActionKind.SCIM_REACTIVATE:
        scim = replace(account.scim, active=True) if account.scim else None
        return replace(account, scim=scim, status=AccountStatus.ACTIVE)
    if kind is ActionKind.DELETE:
        return replace(account, pending_deletion=True)
    return account


def apply_plan(
    plan: Plan,
    source: SourceSnapshot,
    target: TargetSnapshot,
    links: Sequence[Link],
    now: datetime,
) -> tuple[TargetSnapshot, tuple[Link, ...]]:
    """Accounts and links after every action of the plan succeeded.

    ``source`` is taken for symmetry with ``plan``: applying a plan never changes Keycloak.
    """
    del source
    by_pair: dict[tuple[IdentityId, AccountId], Link] = {
        (link.identity_id, link.account_id): link for link in links
    }
    for update in plan.link_updates:
        by_pair[(update.identity_id, update.account_id)] = update
    accounts = {account.id: account for account in target.accounts}
    for action in plan.actions:
        pair = (action.identity_id, action.account_id)
        after = link_after_action(by_pair.get(pair), action, now)
        if after is not None:
            by_pair[pair] = after
        account = accounts.get(action.account_id)
        if account is not None:
            accounts[account.id] = account_after_action(account, action.kind)
    new_target = replace(target, accounts=tuple(accounts[a.id] for a in target.accounts))
    new_links = tuple(by_pair[key] for key in sorted(by_pair))
    return new_target, new_links
