"""Does the account read back show what the action wanted? A pure predicate, and the
bounded patience a read-back has with an eventually consistent directory."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

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


@dataclass(frozen=True, slots=True)
class ReadBackPolicy:
    """How long to wait for a write to show: Atlassian's directory is eventually consistent
    (changes "may take up to 30 seconds", jira.js ``assignOrganizationRole``), so a read
    right after a write may still show the old state. Only after these bounded, backed-off
    reads does a read-back count as a mismatch."""

    attempts: int = 6
    """Reads in all, the first included."""
    first_delay: float = 0.25
    max_delay: float = 8.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after the ``attempt``-th read (1-based) still showed the old state."""
        return float(min(self.first_delay * 2 ** (attempt - 1), self.max_delay))
