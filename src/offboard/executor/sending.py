"""Carry out one action: intent, attempts with retries, outcome, read-back, link update.

Every step is journaled as it happens, the intent before any request, so that a crash at any
point leaves a record ``recover`` can settle by reading the account. Records written at the
same moment share one durable commit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from offboard.core.accounts import KEY_OWNER_FACT, NOT_MYSELF, Account
from offboard.core.journal import JournalRecord, Phase, Status
from offboard.core.links import Link
from offboard.core.plan import Action
from offboard.core.policy import PROVISIONING_KINDS
from offboard.executor.batch_reads import BatchReader
from offboard.executor.group_commit import GroupCommitter
from offboard.executor.linking import LinkKey, link_after_success
from offboard.executor.outcomes import Outcome
from offboard.executor.preflight import NO_PREFLIGHT, Preflight
from offboard.executor.readback import ReadBackPolicy, target_state_holds
from offboard.executor.records import action_record
from offboard.executor.retrying import RetryPolicy
from offboard.ports import (
    AccountDirectory,
    Clock,
    NotManageableError,
    OffboardError,
    OperationResult,
    PermanentError,
    Store,
    TemporaryError,
    VerifyingDirectory,
)


def describe(error: BaseException) -> str:
    """Our errors carry safe messages; anything else is named by type only (may hold secrets)."""
    if isinstance(error, OffboardError):
        return str(error) or type(error).__name__
    return f"unexpected {type(error).__name__}"


@dataclass(frozen=True, slots=True)
class Sent:
    """An action whose requests are done, its outcome not yet journaled."""

    outcome: Outcome
    last_attempt: JournalRecord


@dataclass
class ActionSender:
    """Sends the actions of one apply; holds what every step needs."""

    directory: AccountDirectory
    store: Store
    clock: Clock
    run_id: str
    fingerprint: str
    retry: RetryPolicy
    links: dict[LinkKey, Link]
    readback: ReadBackPolicy = dataclasses.field(default_factory=ReadBackPolicy)
    preflight: Preflight = NO_PREFLIGHT
    reader: BatchReader | None = None
    """Read-backs through batch reads; None reads each account by id."""
    committer: GroupCommitter | None = None
    """The apply's writer queue (``group_commit``); None: one of this sender's own."""

    def __post_init__(self) -> None:
        if self.committer is None:
            self.committer = GroupCommitter(self.store, self.preflight.fence, self.clock)

    def record(
        self,
        action: Action,
        phase: Phase,
        status: Status,
        *,
        http_status: int | None = None,
        detail: str = "",
    ) -> JournalRecord:
        return action_record(
            action,
            at=self.clock.now(),
            run_id=self.run_id,
            fingerprint=self.fingerprint,
            phase=phase,
            status=status,
            http_status=http_status,
            detail=detail,
        )

    async def journal(self, *records: JournalRecord, links: Sequence[Link] = ()) -> None:
        """Records (and links) durable together, in a commit shared with the other actions'
        records of the moment (``group_commit``), made in a worker thread: a durable commit
        waits for the disk, and the event loop must not."""
        assert self.committer is not None  # made in __post_init__
        await self.committer.write(records, links)

    async def run(self, action: Action) -> Outcome:
        """The whole life of one action (never raises for a vendor error): ``request``,
        ``record_outcome``, ``confirm``."""
        return await self.confirm(await self.record_outcome(await self.request(action)))

    async def request(self, action: Action) -> Sent:
        """The intent (committed before anything is sent) and the attempts; the outcome is
        not recorded yet (``record_outcome``): an apply records it after freeing the slot.

        An action's life is three commits: this intent; the last attempt with the outcome
        (``record_outcome``); the read-back with the link that remembers the success
        (``confirm``). Each raises ``FenceLostError`` once the lease is lost: nothing more
        is sent or recorded."""
        await self.journal(self.intent(action))
        return await self.send(action)

    def intent(self, action: Action) -> JournalRecord:
        """The record that must be durable before anything is sent for ``action``."""
        return self.record(action, Phase.INTENT, Status.PENDING)

    async def send(self, action: Action) -> Sent:
        """The attempts of an action whose intent is already durable (an apply commits it
        with the action's budget slot: ``BudgetGate.admit``)."""
        return Sent(*await self._send(action))

    async def record_outcome(self, sent: Sent) -> Outcome:
        """The last attempt and the outcome, in one commit."""
        outcome = sent.outcome
        await self.journal(
            sent.last_attempt,
            self.record(
                outcome.action,
                Phase.OUTCOME,
                outcome.status,
                http_status=outcome.http_status,
                detail=outcome.detail,
            ),
        )
        return outcome

    async def confirm(self, outcome: Outcome) -> Outcome:
        """The read-back of a succeeded outcome, journaled with the link that remembers it
        (any other outcome is returned as it is). Needs no concurrency slot: read-backs of
        many actions wait together and are answered by batch reads (``batch_reads``)."""
        if outcome.status is not Status.SUCCEEDED:
            return outcome
        action = outcome.action
        readback, readback_record = await self._read_back(action)
        # A provisioning write targets a SCIM record, not a linked account: no link to keep.
        links = [] if action.kind in PROVISIONING_KINDS else [self._link_after_success(action)]
        await self.journal(readback_record, links=links)
        return dataclasses.replace(outcome, readback=readback)

    async def _send(self, action: Action) -> tuple[Outcome, JournalRecord]:
        """The outcome and the record of the last attempt (earlier retries are journaled)."""
        attempt = 0
        while True:
            attempt += 1
            # The first attempt comes milliseconds after the intent was committed under the
            # fence, lease unexpired (``BudgetGate.admit``); a retry comes after a pause.
            if attempt > 1:
                await self.preflight.ensure_fence(self.store, self.clock)
            try:
                result = await self.directory.execute(action)
            except TemporaryError as error:
                last_try = attempt >= self.retry.attempts
                status = Status.FAILED if last_try else Status.RETRYING
                record = self.record(
                    action, Phase.ATTEMPT, status, http_status=error.status, detail=describe(error)
                )
                if last_try:
                    detail = f"gave up after {attempt} attempts: {describe(error)}"
                    return Outcome(action, Status.FAILED, detail, error.status, attempt), record
                await self.journal(record)
                await self.retry.sleep(self.retry.delay(attempt, error.retry_after))
            except Exception as error:  # the rest of the plan goes on whatever happened here
                return self._refused(action, error, attempt)
            else:
                return self._succeeded(action, result, attempt)

    def _succeeded(
        self, action: Action, result: OperationResult, attempt: int
    ) -> tuple[Outcome, JournalRecord]:
        detail = result.detail or ("changed" if result.changed else "already in the wanted state")
        record = self.record(
            action, Phase.ATTEMPT, Status.SUCCEEDED, http_status=result.http_status, detail=detail
        )
        return Outcome(action, Status.SUCCEEDED, detail, result.http_status, attempt), record

    def _refused(
        self, action: Action, error: Exception, attempt: int
    ) -> tuple[Outcome, JournalRecord]:
        status = Status.BLOCKED if isinstance(error, NotManageableError) else Status.FAILED
        if isinstance(error, NotManageableError) and error.reason_key == NOT_MYSELF:
            self._remember_key_owner(action)
        detail = describe(error)
        if isinstance(error, NotManageableError):
            detail = f"{error.reason_key}: {detail}"
        http_status = error.status if isinstance(error, PermanentError) else None
        record = self.record(action, Phase.ATTEMPT, status, http_status=http_status, detail=detail)
        return Outcome(action, status, detail, http_status, attempt), record

    async def _read_back(self, action: Action) -> tuple[Status, JournalRecord]:
        """Read until the write shows, a bounded number of times (eventual consistency)."""
        if action.kind in PROVISIONING_KINDS:
            return await self._verify(action)
        reads = 0
        while True:
            reads += 1
            try:
                account = await self._read_account(action)
            except Exception as error:
                record = self.record(action, Phase.READBACK, Status.FAILED, detail=describe(error))
                return Status.FAILED, record
            if target_state_holds(action, account):
                status = Status.VERIFIED
                break
            if reads >= self.readback.attempts:
                status = Status.MISMATCH
                break
            await self.readback.sleep(self.readback.delay(reads))
        detail = account_state(account) + (f" (after {reads} reads)" if reads > 1 else "")
        return status, self.record(action, Phase.READBACK, status, detail=detail)

    async def _verify(self, action: Action) -> tuple[Status, JournalRecord]:
        """Provisioning read-back: the directory compares the SCIM record with the action."""
        if not isinstance(self.directory, VerifyingDirectory):
            detail = "this directory cannot read back provisioning writes"
            return Status.FAILED, self.record(action, Phase.READBACK, Status.FAILED, detail=detail)
        try:
            holds, detail = await self.directory.verify(action)
        except Exception as error:
            record = self.record(action, Phase.READBACK, Status.FAILED, detail=describe(error))
            return Status.FAILED, record
        status = Status.VERIFIED if holds else Status.MISMATCH
        return status, self.record(action, Phase.READBACK, status, detail=detail)

    async def _read_account(self, action: Action) -> Account | None:
        attempt = 0
        while True:
            attempt += 1
            try:
                if self.reader is None:
                    return await self.directory.read_account(action.account_id)
                return await self.reader.read(action.account_id, action.email)
            except TemporaryError as error:
                if attempt >= self.retry.attempts:
                    raise
                await self.retry.sleep(self.retry.delay(attempt, error.retry_after))

    def _remember_key_owner(self, action: Action) -> None:
        """Atlassian named the API key's own account by refusing it: keep that for good, so
        every later plan skips it under ``protected-key-owner``."""
        if self.store.cursor(KEY_OWNER_FACT) is None:
            self.store.set_cursor(KEY_OWNER_FACT, action.account_id)

    def _link_after_success(self, action: Action) -> Link:
        """The link as it is once offboard took access away (or gave it back)."""
        key = (action.identity_id, action.account_id)
        link = link_after_success(self.links.get(key), action, self.clock.now())
        self.links[key] = link
        return link


def account_state(account: Account | None) -> str:
    """The facts a read-back is judged on, for the journal."""
    if account is None:
        return "account not found"
    scim = "" if account.scim is None else f", scim active={account.scim.active}"
    return f"status={account.status.value}, membership={account.membership.value}{scim}" + (
        ", pending deletion" if account.pending_deletion else ""
    )
