"""The executor's view of a SCIM directory for provisioning plans.

``apply_plan`` takes an :class:`~offboard.ports.AccountDirectory`; provisioning actions
target SCIM records, not accounts, so account reads answer nothing and the read-back goes
through ``verify`` (:class:`~offboard.ports.VerifyingDirectory`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from offboard.adapters.atlassian_scim.provisioning import ScimProvisioner
from offboard.core.accounts import Account, AccountId
from offboard.core.plan import Action
from offboard.core.snapshots import TargetSnapshot
from offboard.ports import CheckResult, OperationResult, Progress


class ProvisioningTarget:
    """The executor's directory for provisioning plans (see ``ports.VerifyingDirectory``).

    Provisioning actions target SCIM records, not accounts: account reads answer nothing.
    """

    def __init__(self, provisioner: ScimProvisioner) -> None:
        self.provisioner = provisioner

    async def snapshot(self, *, progress: Progress | None = None) -> TargetSnapshot:
        problem = "a provisioning target holds no account snapshot"
        return TargetSnapshot((), datetime.now(UTC), False, problems=(problem,))

    async def find_by_email(self, email: str) -> Sequence[Account]:
        return ()

    async def read_account(self, account_id: AccountId) -> Account | None:
        return None

    async def execute(self, action: Action) -> OperationResult:
        return await self.provisioner.execute(action)

    async def verify(self, action: Action) -> tuple[bool, str]:
        return await self.provisioner.verify(action)

    async def self_check(self) -> Sequence[CheckResult]:
        return await self.provisioner.scim.self_check()
