"""In-memory fakes of the ports for executor and pipeline tests (they implement the port)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from offboard.core.accounts import Account, AccountId, AccountStatus, Membership
from offboard.core.identities import IdentityId
from offboard.core.plan import Action, GuardName, GuardResult, Plan, Rule
from offboard.core.policy import ActionKind
from offboard.core.snapshots import TargetSnapshot
from offboard.ports import CheckResult, OperationResult, Progress

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@dataclass
class FakeClock:
    at: datetime = T0

    def now(self) -> datetime:
        self.at += timedelta(milliseconds=1)  # every reading is later: journal order is visible
        return self.at


def wanted(account: Account, kind: ActionKind) -> Account:
    """The account after the vendor carried out ``kind`` on it."""
    match kind:
        case ActionKind.DEACTIVATE:
            return replace(account, status=AccountStatus.INACTIVE)
        case ActionKind.SUSPEND:
            return replace(account, membership=Membership.SUSPENDED)
        case ActionKind.SCIM_DEACTIVATE:
            assert account.scim is not None
            return replace(account, scim=replace(account.scim, active=False))
        case ActionKind.REACTIVATE:
            return replace(account, status=AccountStatus.ACTIVE)
        case ActionKind.RESTORE:
            return replace(account, membership=Membership.ACTIVE)
        case ActionKind.DELETE:
            return replace(account, pending_deletion=True)
        case _:
            return account


@dataclass
class FakeDirectory:
    """Accounts in a dict; ``failures[account_id]`` raised one by one before succeeding."""

    accounts: dict[str, Account]
    failures: dict[str, list[Exception]] = field(default_factory=dict)
    ignore_writes: frozenset[str] = frozenset()
    """Accounts whose writes report success but change nothing (to provoke a mismatch)."""
    latency: float = 0.001
    """Seconds each write takes, to let concurrent writes overlap."""
    sent: list[str] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    verified_domains: frozenset[str] = frozenset({"example.com"})

    async def snapshot(self, *, progress: Progress | None = None) -> TargetSnapshot:
        return TargetSnapshot(
            tuple(self.accounts.values()), T0, True, verified_domains=self.verified_domains
        )

    async def find_by_email(self, email: str) -> Sequence[Account]:
        return [a for a in self.accounts.values() if a.normalised_email == email.lower()]

    async def read_account(self, account_id: AccountId) -> Account | None:
        return self.accounts.get(account_id)

    async def execute(self, action: Action) -> OperationResult:
        self.sent.append(action.key)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.latency)
            pending = self.failures.get(action.account_id)
            if pending:
                raise pending.pop(0)
            before = self.accounts[action.account_id]
            if action.account_id not in self.ignore_writes:
                self.accounts[action.account_id] = wanted(before, action.kind)
            return OperationResult(204, self.accounts[action.account_id] != before)
        finally:
            self.in_flight -= 1

    async def self_check(self) -> Sequence[CheckResult]:
        return [CheckResult("fake", True, "in memory")]


def account(n: int, **changes: object) -> Account:
    base = Account(AccountId(f"acc-{n}"), f"user{n}@example.com", name=f"User {n}")
    return replace(base, **changes)  # type: ignore[arg-type]


def action(n: int, kind: ActionKind = ActionKind.DEACTIVATE) -> Action:
    return Action(
        kind,
        IdentityId(f"id-{n}"),
        AccountId(f"acc-{n}"),
        f"user{n}@example.com",
        Rule.IDENTITY_DISABLED,
        f"user{n} was disabled in Keycloak",
    )


def plan_of(*actions: Action, fingerprint: str = "fp-1", **changes: object) -> Plan:
    plan = Plan(created_at=T0, actions=actions, entries=(), guards=(), fingerprint=fingerprint)
    return replace(plan, **changes)  # type: ignore[arg-type]


def tripped(name: GuardName = GuardName.MAX_DEACTIVATIONS) -> GuardResult:
    return GuardResult(name, True, False, "30 deactivations > limit 25; --override-guard", 30, 25)
