"""Does the account read back show what the action wanted? A pure predicate."""

from __future__ import annotations

from offboard.core.accounts import Account, AccountStatus, Membership
from offboard.core.plan import Action
from offboard.core.policy import ActionKind


def _scim_active(account: Account) -> bool | None:
    return account.scim.active if account.scim is not None else None


def target_state_holds(action: Action, account: Account | None) -> bool:
    """True when ``account`` (None: not found) is in the state ``action`` asks for."""
    if action.kind is ActionKind.DELETE:
        return account is None or account.pending_deletion or account.status is AccountStatus.CLOSED
    if account is None:
        return False
    match action.kind:
        case ActionKind.DEACTIVATE:
            return account.status is not AccountStatus.ACTIVE
        case ActionKind.SUSPEND:
            return account.membership is not Membership.ACTIVE
        case ActionKind.SCIM_DEACTIVATE:
            return _scim_active(account) is False or account.status is not AccountStatus.ACTIVE
        case ActionKind.REACTIVATE:
            return account.status is AccountStatus.ACTIVE
        case ActionKind.RESTORE:
            return account.membership is Membership.ACTIVE
        case ActionKind.SCIM_REACTIVATE:
            return _scim_active(account) is not False and account.status is AccountStatus.ACTIVE
        case _:
            return True  # link kinds change only offboard's own store
