"""The ports: what the service, executor and CLI need from the outside world.

Adapters implement these protocols; tests implement them with fakes or emulators. The error
tree is shared so that the executor decides on categories, not on vendors::

    OffboardError
    ├── TemporaryError          retry later (429, 5xx, timeouts); ``retry_after`` if the server said
    └── PermanentError          retrying cannot help; record and move on
        ├── AuthenticationError 401: key expired or wrong
        ├── NotManageableError  the vendor refuses to manage this account (reason key)
        ├── NotFoundError       404
        └── ConflictError       409: not eligible for this action
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from offboard.core.accounts import Account, AccountId
from offboard.core.budget import WindowLimit
from offboard.core.holds import (
    Admission,
    BudgetRequest,
    BudgetVerdict,
    Hold,
    Waiting,
    WindowUsage,
)
from offboard.core.identities import Identity, IdentityId
from offboard.core.journal import JournalRecord, RunRecord, SnapshotSummary
from offboard.core.links import Link
from offboard.core.plan import Action
from offboard.core.snapshots import SourceSnapshot, TargetSnapshot

if TYPE_CHECKING:  # the licence check's types: a deprovisioning run does not import them
    from offboard.core.inactivity import InactivityMark
    from offboard.core.licences import AccountUsage


class OffboardError(Exception):
    """Base of every error offboard raises on purpose. Messages never hold secrets."""


class TemporaryError(OffboardError):
    def __init__(
        self, message: str, *, retry_after: float | None = None, status: int | None = None
    ):
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


class PermanentError(OffboardError):
    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


class AuthenticationError(PermanentError):
    pass


class NotFoundError(PermanentError):
    pass


class ConflictError(PermanentError):
    pass


class FenceLostError(OffboardError):
    """This process no longer holds the lease with the token it acts under: it must stop.

    Raised before a request would be sent, and by the store when it refuses a journal write
    that carries a stale fencing token (another process has taken over since)."""


@dataclass(frozen=True, slots=True)
class Fence:
    """The lease a writer acts under, and the fencing token it saw when it took the lease."""

    name: str
    holder: str
    token: int


class NotManageableError(PermanentError):
    def __init__(self, message: str, *, reason_key: str, status: int | None = 403):
        super().__init__(message, status=status)
        self.reason_key = reason_key


class NoHoldError(OffboardError):
    """A hold was to be released, but none is active."""


Progress = Callable[[int, int | None], None]
"""Called with (items done, items expected or None) while a long read goes on."""


@dataclass(frozen=True, slots=True)
class IdentityEvent:
    """A hint that one identity may have changed: a trigger for a re-check, never a decision."""

    identity_id: IdentityId
    event_id: str
    occurred_at: datetime
    kind: str
    """E.g. ``admin:USER:UPDATE``, ``admin:USER:DELETE``, ``user:DELETE_ACCOUNT``, ``webhook``."""


EVERYONE = IdentityId("*")
"""The identity of an event that can have changed people it does not name (a scope group
deleted, a partial import overwriting users): the daemon answers it with a full
reconciliation, never with a guess about anyone."""


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One line of a self-check: OK or not, and the fix when not."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    warning: bool = False
    """OK, but needs attention (e.g. a credential expiring soon): shown as WARN."""


@dataclass(frozen=True, slots=True)
class OperationResult:
    """What one write to the vendor did."""

    http_status: int
    changed: bool
    """False when the account was already in the wanted state (idempotent success)."""
    detail: str = ""


class IdentitySource(Protocol):
    """Keycloak, as offboard needs it."""

    async def snapshot(self, *, progress: Progress | None = None) -> SourceSnapshot:
        """Every in-scope identity; marked incomplete rather than raising on a partial read."""
        ...

    async def read_identity(self, identity_id: IdentityId) -> Identity | None:
        """A fresh read by id with lockout checked; None only on a confirmed 404."""
        ...

    async def confirm(
        self, snapshot: SourceSnapshot, candidates: Iterable[IdentityId]
    ) -> SourceSnapshot:
        """Re-read the candidates serially: disables confirmed, absences confirmed by 404."""
        ...

    async def events_since(self, cursor: str | None) -> tuple[Sequence[IdentityEvent], str | None]:
        """Relevant events after the cursor (with an overlap), and the cursor to keep."""
        ...

    async def self_check(self) -> Sequence[CheckResult]: ...


class AccountDirectory(Protocol):
    """Atlassian Cloud, as offboard needs it."""

    async def snapshot(self, *, progress: Progress | None = None) -> TargetSnapshot: ...

    async def find_by_email(self, email: str) -> Sequence[Account]: ...

    async def read_account(self, account_id: AccountId) -> Account | None: ...

    async def execute(self, action: Action) -> OperationResult:
        """Carry out one action idempotently; raises the errors of this module."""
        ...

    async def self_check(self) -> Sequence[CheckResult]: ...


@runtime_checkable
class BatchReadingDirectory(Protocol):
    """A directory that reads many accounts in one request (read-backs of a bulk apply)."""

    async def read_accounts(self, account_ids: Sequence[AccountId]) -> Mapping[str, Account]:
        """The accounts the directory answered with, by id (a batch of at most ten ids).

        An id absent from the answer is NOT proof of anything: the caller reads it by id."""
        ...


@runtime_checkable
class EmailReadingDirectory(Protocol):
    """A directory that finds the accounts of many emails in one request (a hundred)."""

    async def find_by_emails(self, emails: list[str]) -> Sequence[Account]:
        """Every account holding one of ``emails``. An account absent from the answer is
        NOT proof of anything: the caller reads it by id."""
        ...


@runtime_checkable
class VerifyingDirectory(Protocol):
    """A directory that reads back provisioning writes, whose targets are not accounts."""

    async def verify(self, action: Action) -> tuple[bool, str]:
        """Whether the SCIM record now shows what ``action`` asked for, and what was read."""
        ...


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware UTC datetime."""
        ...


class SystemClock:
    """The :class:`Clock` of production: wall-clock time in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class Store(Protocol):
    """Durable state: links, snapshot summaries, runs, plans, the journal, cursors, leases."""

    def links(
        self,
        *,
        identity_ids: Iterable[str] | None = None,
        account_ids: Iterable[str] | None = None,
    ) -> list[Link]:
        """Every link, or only those of the given identities and/or accounts (either matches).

        A re-check of one person must not read a 100k-row table to find one link.
        """
        ...

    def upsert_links(self, links: Iterable[Link]) -> None: ...

    def remove_links(
        self, keys: Iterable[tuple[str, str]], records: Sequence[JournalRecord] = ()
    ) -> None:
        """Forget (identity id, account id) pairings and journal why, in one transaction."""
        ...

    def record_snapshot(self, summary: SnapshotSummary) -> None: ...

    def last_snapshot(self, side: str, kind: str = "full") -> SnapshotSummary | None: ...

    def start_run(self, kind: str, started_at: datetime) -> str: ...

    def finish_run(
        self, run_id: str, finished_at: datetime, status: str, summary: dict[str, object]
    ) -> None: ...

    def runs(self, limit: int = 50) -> list[RunRecord]: ...

    def save_plan(self, run_id: str, fingerprint: str, document: str) -> None: ...

    def append(self, record: JournalRecord, *, fence: Fence | None = None) -> int:
        """Append one journal record durably; returns its sequence number.

        With a ``fence``, raises ``FenceLostError`` (writing nothing) unless the lease still
        carries that holder and token: a replaced leader can no longer record anything.
        """
        ...

    def append_all(
        self,
        records: Sequence[JournalRecord],
        links: Iterable[Link] = (),
        *,
        fence: Fence | None = None,
    ) -> None:
        """Append records in order and upsert links in one durable transaction: all or none.

        One commit instead of several: each durable commit waits for the disk. ``fence`` as
        for :meth:`append`, checked in the same transaction.
        """
        ...

    def journal(
        self,
        *,
        run_id: str | None = None,
        identity_id: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[JournalRecord]: ...

    def unfinished(self) -> list[JournalRecord]:
        """INTENT records with no OUTCOME or RECOVERED record for the same run and action."""
        ...

    def cursor(self, name: str) -> str | None: ...

    def set_cursor(self, name: str, value: str) -> None: ...

    def acquire_lease(self, name: str, holder: str, ttl: timedelta, now: datetime) -> bool:
        """Take or renew the lease; False while another holder's lease is unexpired."""
        ...

    def release_lease(self, name: str, holder: str) -> None: ...

    # The budget over time and the hold (see offboard.core.budget and offboard.core.holds).

    def reserve_budget(self, request: BudgetRequest) -> BudgetVerdict:
        """Spend one slot of the request's category, or refuse and put (or join) the hold.

        Atomic across processes and replicas: of N concurrent requests against a window with
        k slots left, exactly k are granted.
        """
        ...

    def reserve_budgets(
        self, requests: Sequence[BudgetRequest], *, fence: Fence | None = None
    ) -> list[BudgetVerdict]:
        """``reserve_budget`` of each request in turn, all in one transaction: the same
        verdicts, one commit. Under a ``fence``, raises ``FenceLostError`` and spends
        nothing once the lease was taken over."""
        ...

    def admit(
        self,
        admissions: Sequence[Admission],
        *,
        fence: Fence | None = None,
        now: datetime | None = None,
        records: Sequence[JournalRecord] = (),
        links: Iterable[Link] = (),
    ) -> list[BudgetVerdict]:
        """What lets actions through to their requests, all in one transaction: each
        admission's slot as by ``reserve_budgets`` (granted when it asks none) and, when
        granted, its intent appended to the journal, so that a slot spent and an intent
        written are one durable step; ``records`` and ``links`` as by ``append_all``, in
        the same commit (an apply's other journal writes of the moment). Under a ``fence``
        (whose lease must also run past ``now``, when given), raises ``FenceLostError``
        and writes nothing once the lease is lost or ran out."""
        ...

    def hold_plan(
        self,
        category: str,
        guards: Sequence[str],
        message: str,
        at: datetime,
        waiting: Sequence[Waiting],
    ) -> tuple[int, bool]:
        """Put a hold for a plan a guard blocked (or join the active one): ``(id, new)``."""
        ...

    def active_hold(self, category: str) -> Hold | None: ...

    def release_hold(self, category: str, by: str, reason: str, at: datetime) -> Hold:
        """Release the active hold; raises ``NoHoldError`` when there is none."""
        ...

    def budget_usage(
        self, category: str, limits: Sequence[WindowLimit], now: datetime
    ) -> list[WindowUsage]: ...

    def link_count(self) -> int: ...

    def lease_token(self, name: str, holder: str, now: datetime) -> int | None:
        """The fencing token of ``holder``'s unexpired lease, or None when it holds none.

        The token grows by one at every take-over (a new holder, or the same one after its
        lease expired), never at a renewal."""
        ...

    def fence_holds(self, fence: Fence, now: datetime) -> bool:
        """True while ``fence``'s holder has the unexpired lease with the same token."""
        ...


@dataclass(frozen=True, slots=True)
class ApiToken:
    """One API token a person created (never its secret)."""

    token_id: str
    label: str
    created_at: datetime | None = None
    last_access: datetime | None = None


class UsageDirectory(Protocol):
    """What Atlassian knows of use and billing, and users' API tokens (the licence check)."""

    async def usages(self, *, progress: Progress | None = None) -> list[AccountUsage]:
        """Billing and last use per product of every managed account."""
        ...

    async def last_active(
        self, account_id: str, *, email: str | None = None, billable: bool = True
    ) -> AccountUsage:
        """One account's last use per product."""
        ...

    async def api_tokens(self, account_id: str) -> list[ApiToken]: ...

    async def revoke_token(self, account_id: str, token_id: str) -> OperationResult: ...


class LicenceHistory(Protocol):
    """The store's record of daily licence checks, for the trend of reclaimable seats."""

    def record_licence_report(self, taken_at: datetime, summary: dict[str, object]) -> None: ...

    def licence_reports(self, limit: int = 90) -> list[tuple[datetime, dict[str, object]]]:
        """The latest reports, newest first."""
        ...

    def inactivity_marks(self) -> list[InactivityMark]: ...

    def save_inactivity_marks(self, changed: list[InactivityMark], cleared: list[str]) -> None:
        """Replace the marks of ``changed`` accounts and drop those of ``cleared``, atomically."""
        ...


@dataclass(frozen=True, slots=True)
class Message:
    """One notification: recipients, subject and plain-text body (never a secret)."""

    to: tuple[str, ...]
    subject: str
    body: str
    cc: tuple[str, ...] = ()


class Notifier(Protocol):
    """Sends notifications (SMTP today; the console's notifications may replace it)."""

    async def send(self, message: Message) -> str:
        """Send ``message``; returns what the server said. Raises the errors of this module."""
        ...
