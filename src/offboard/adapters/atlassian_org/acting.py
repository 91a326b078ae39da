"""Lifecycle and membership actions of the org adapter, each idempotent.

Lifecycle writes go straight to Atlassian: disabling an inactive account changes nothing
there, a 403 ``forbidden.action`` carries the restriction reason (raised as
:class:`NotManageableError`), and a 409 is settled by reading the account. Membership
writes read the account first, since the v2 API documents no answer for a repeat, and name
each directory by its id: only the reads take ``-`` (every directory).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from offboard.adapters.atlassian_org import requests as rq
from offboard.core.accounts import NOT_MYSELF, Account, AccountStatus, Membership
from offboard.core.plan import Action
from offboard.core.policy import ActionKind
from offboard.ports import (
    ConflictError,
    NotFoundError,
    NotManageableError,
    OperationResult,
    PermanentError,
)

if TYPE_CHECKING:
    from offboard.adapters.atlassian_org.client import OrgAdapter

LIFECYCLE = {
    ActionKind.DEACTIVATE: "disable",
    ActionKind.REACTIVATE: "enable",
    ActionKind.DELETE: "delete",
}
MEMBERSHIP = {ActionKind.SUSPEND: "suspend", ActionKind.RESTORE: "restore"}
_UNCHANGED = "already in state"


async def execute(org: OrgAdapter, action: Action) -> OperationResult:
    """Carry out one lifecycle or membership action idempotently."""
    if action.kind in LIFECYCLE:
        return await _lifecycle(org, action)
    if action.kind in MEMBERSHIP:
        return await _membership(org, action)
    raise PermanentError(f"the org adapter does not carry out {action.kind} actions")


async def _lifecycle(org: OrgAdapter, action: Action) -> OperationResult:
    """Write first: a 403 already says why the account cannot be managed, and a 409 is
    settled by one read. Asking first would cost two more requests on every action."""
    verb = LIFECYCLE[action.kind]
    try:
        response = await org.call(
            lambda: rq.lifecycle(org.client, action.account_id, verb, action.reason),
            f"{verb} {action.account_id}",
        )
    except NotManageableError as refusal:
        if refusal.reason_key == NOT_MYSELF:
            org.learn_key_owner(action.account_id)
        raise
    except ConflictError:
        # Some tenants answer 409 when the account is already where the action puts it.
        current = await org.read_account(action.account_id)
        if current is not None and already_done(action.kind, current):
            return OperationResult(http_status=409, changed=False, detail=_UNCHANGED)
        raise
    return OperationResult(http_status=response.status_code, changed=True, detail=verb)


async def _membership(org: OrgAdapter, action: Action) -> OperationResult:
    verb = MEMBERSHIP[action.kind]
    directory_id = await org.directory_id()
    current = await org.read_account(action.account_id)
    if current is None:
        raise NotFoundError(f"{action.account_id} is not in directory {directory_id}")
    if already_done(action.kind, current):
        return OperationResult(http_status=200, changed=False, detail=_UNCHANGED)
    if directory_id != rq.EVERY_DIRECTORY:
        status = await _act_in(org, directory_id, action, verb)
        if status is None:
            return OperationResult(http_status=409, changed=False, detail=_UNCHANGED)
        return OperationResult(http_status=status, changed=True, detail=verb)
    return await _act_in_each(org, action, verb)


async def _act_in(org: OrgAdapter, directory_id: str, action: Action, verb: str) -> int | None:
    """The status of the write; None when a conflict turned out to be the state already
    reached (a retried write whose first answer was lost: the v2 API documents no answer
    for a repeat, so a 409 is settled by reading the membership, as for lifecycle)."""
    account_id = action.account_id
    try:
        response = await org.call(
            lambda: rq.membership_action(org.client, org.org_id, directory_id, account_id, verb),
            f"{verb} {account_id} in directory {directory_id}",
        )
    except ConflictError:
        member = await org.read_account(account_id, directory_id=directory_id)
        if member is not None and already_done(action.kind, member):
            return None
        raise
    return response.status_code


async def _act_in_each(org: OrgAdapter, action: Action, verb: str) -> OperationResult:
    """Suspend or restore in every directory holding the account, each by its id.

    ``suspend`` and ``restore`` take a directory id from the directory listing (jira.js
    ``suspendDirectoryUser``), whose ``accountId`` filter names the directories that hold
    the account. Each membership is read in its directory first, so one already in state
    is left alone."""
    done: list[str] = []
    status = 200
    for directory_id in await org.directories(action.account_id):
        member = await org.read_account(action.account_id, directory_id=directory_id)
        if member is None or already_done(action.kind, member):
            continue
        answered = await _act_in(org, directory_id, action, verb)
        if answered is None:
            continue
        status = answered
        done.append(directory_id)
    if not done:
        return OperationResult(http_status=200, changed=False, detail=_UNCHANGED)
    return OperationResult(status, changed=True, detail=f"{verb} in {', '.join(done)}")


def already_done(kind: ActionKind, account: Account) -> bool:
    """True when the account is already where ``kind`` would put it."""
    if kind is ActionKind.DEACTIVATE:
        return account.status is not AccountStatus.ACTIVE
    if kind is ActionKind.REACTIVATE:
        return account.status is AccountStatus.ACTIVE and not account.pending_deletion
    if kind is ActionKind.DELETE:
        return account.pending_deletion or account.status is AccountStatus.CLOSED
    if kind is ActionKind.SUSPEND:
        return account.membership is Membership.SUSPENDED
    if kind is ActionKind.RESTORE:
        return account.membership is Membership.ACTIVE
    return False
