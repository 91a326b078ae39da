"""The licence plan's own kinds, carried out behind the ordinary executor.

:class:`LicenceDirectory` is an :class:`AccountDirectory` for ``apply_plan``: warnings go
to the notifier, token revocations to the token calls, and everything else (suspend,
deactivate, delete, their undos) to the real directory, so every step runs through
``apply_plan`` with its intent, retries, outcome and read-back journal records.

A token revocation lists the account's tokens, revokes each (one journal note per token,
naming its id and label, never a secret), and reads the list back: a token left over fails
the action so that the next run tries again. Only tokens listed under the action's own
account are ever revoked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from offboard.core.accounts import Account, AccountId
from offboard.core.plan import Action
from offboard.core.policy import ActionKind
from offboard.core.snapshots import TargetSnapshot
from offboard.executor.records import note_record
from offboard.ports import (
    AccountDirectory,
    CheckResult,
    Clock,
    Message,
    Notifier,
    OperationResult,
    PermanentError,
    Progress,
    Store,
    TemporaryError,
    UsageDirectory,
)

SUBJECT = "Your Atlassian access will be removed for inactivity"


@dataclass(frozen=True, slots=True)
class Recipients:
    """Who hears of one person's inactivity: the person, and the manager or the admin."""

    to: tuple[str, ...]
    cc: tuple[str, ...] = ()


def warning_text(action: Action, remove_in_days: int) -> str:
    return (
        f"Hello,\n\nThe Atlassian account {action.email or action.account_id} has not been "
        f"used for a long time. Unless it is used again, its access will be removed in "
        f"{remove_in_days} days.\n\nWhy: {action.reason}\n\nIf you still need it, sign in "
        "to any Atlassian product, or ask your administrator for an exemption.\n"
    )


@dataclass
class LicenceDirectory:
    """An ``AccountDirectory`` that also sends warnings and revokes tokens."""

    inner: AccountDirectory
    usage: UsageDirectory
    notifier: Notifier | None
    store: Store
    clock: Clock
    run_id: str
    fingerprint: str
    recipients: Mapping[str, Recipients] = field(default_factory=dict)
    remove_in_days: int = 30

    async def snapshot(self, *, progress: Progress | None = None) -> TargetSnapshot:
        return await self.inner.snapshot(progress=progress)

    async def find_by_email(self, email: str) -> Sequence[Account]:
        return await self.inner.find_by_email(email)

    async def read_account(self, account_id: AccountId) -> Account | None:
        return await self.inner.read_account(account_id)

    async def self_check(self) -> Sequence[CheckResult]:
        return await self.inner.self_check()

    async def execute(self, action: Action) -> OperationResult:
        if action.kind is ActionKind.NOTIFY_INACTIVE:
            return await self._warn(action)
        if action.kind is ActionKind.REVOKE_TOKENS:
            return await self._revoke_tokens(action)
        return await self.inner.execute(action)

    async def _warn(self, action: Action) -> OperationResult:
        if self.notifier is None:
            raise PermanentError("no notifier configured: set [licences.smtp] host")
        who = self.recipients.get(action.account_id)
        if who is None or not who.to:
            raise PermanentError(f"nobody to warn for {action.account_id}: no email known")
        message = Message(who.to, SUBJECT, warning_text(action, self.remove_in_days), who.cc)
        said = await self.notifier.send(message)
        return OperationResult(250, changed=True, detail=said)

    async def _revoke_tokens(self, action: Action) -> OperationResult:
        held = await self.usage.api_tokens(action.account_id)
        revoked = 0
        for token in held:
            result = await self.usage.revoke_token(action.account_id, token.token_id)
            revoked += result.changed
            await asyncio.to_thread(
                self.store.append,
                note_record(
                    at=self.clock.now(),
                    run_id=self.run_id,
                    fingerprint=self.fingerprint,
                    key=f"{action.key}:token:{token.token_id}",
                    detail=f"token {token.token_id} ({token.label}) of {action.account_id}: "
                    f"{result.detail}",
                    rule=str(action.rule),
                ),
            )
        left = await self.usage.api_tokens(action.account_id)
        if left:
            ids = ", ".join(t.token_id for t in left)
            raise TemporaryError(f"{len(left)} tokens still listed after revoking: {ids}")
        return OperationResult(
            204, changed=revoked > 0, detail=f"revoked {revoked} of {len(held)}; none left"
        )
