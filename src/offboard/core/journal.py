"""Journal records and run/snapshot summaries: the audit trail as plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Phase(StrEnum):
    """The steps one action goes through; each is journaled as it happens."""

    INTENT = "intent"
    """Written before any request is sent."""
    ATTEMPT = "attempt"
    """One request and its HTTP outcome (there may be several, with retries)."""
    OUTCOME = "outcome"
    """The final outcome: succeeded, failed or blocked."""
    READBACK = "readback"
    """The account read back after the outcome, and whether the wanted state holds."""
    RECOVERED = "recovered"
    """An unfinished intent found after a crash, settled by reading the account."""
    NOTE = "note"
    """Run-level facts: a guard overridden, a plan refused."""


class Status(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    BLOCKED = "blocked"
    VERIFIED = "verified"
    MISMATCH = "mismatch"
    RETRYING = "retrying"
    HELD = "held"
    """Not sent: the deprovisioning budget is spent or a hold is active (see ``core.budget``)."""
    INFO = "info"
    SKIPPED = "skipped"
    """Not sent: a fresh read just before sending showed the person no longer needs it."""


@dataclass(frozen=True, slots=True)
class JournalRecord:
    """One append-only line of the journal. Never holds a secret."""

    at: datetime
    run_id: str
    action_key: str
    """``Action.key`` of the action, or a run-level key for notes."""
    phase: Phase
    status: Status
    kind: str = ""
    identity_id: str | None = None
    account_id: str | None = None
    email: str | None = None
    rule: str = ""
    reason: str = ""
    http_status: int | None = None
    detail: str = ""
    seq: int | None = None
    """Assigned by the store on append."""
    fingerprint: str = ""
    """Fingerprint of the plan the action belongs to: with ``action_key``, its idempotency key."""


@dataclass(frozen=True, slots=True)
class SnapshotSummary:
    """What one snapshot looked like, kept to judge the next one (source-health guard)."""

    side: str
    """``keycloak`` or ``atlassian``."""
    taken_at: datetime
    count: int
    complete: bool
    kind: str = "full"
    user_count: int | None = None
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One plan/apply/reconcile run."""

    id: str
    kind: str
    started_at: datetime
    finished_at: datetime | None = None
    status: str = "running"
    summary: dict[str, Any] = field(default_factory=dict)
