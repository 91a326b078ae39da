"""Journal records for actions and run-level notes, built in one place."""

from __future__ import annotations

from datetime import datetime

from offboard.core.journal import JournalRecord, Phase, Status
from offboard.core.plan import Action


def action_record(
    action: Action,
    *,
    at: datetime,
    run_id: str,
    fingerprint: str,
    phase: Phase,
    status: Status,
    http_status: int | None = None,
    detail: str = "",
) -> JournalRecord:
    """One journal line about ``action``; carries the rule and reason that produced it."""
    return JournalRecord(
        at=at,
        run_id=run_id,
        action_key=action.key,
        phase=phase,
        status=status,
        kind=action.kind.value,
        identity_id=action.identity_id,
        account_id=action.account_id,
        email=action.email,
        rule=action.rule.value,
        reason=action.reason,
        http_status=http_status,
        detail=detail,
        fingerprint=fingerprint,
    )


def note_record(
    *, at: datetime, run_id: str, fingerprint: str, key: str, detail: str, rule: str = ""
) -> JournalRecord:
    """A run-level fact (a guard overridden, a plan refused, links saved)."""
    return JournalRecord(
        at=at,
        run_id=run_id,
        action_key=key,
        phase=Phase.NOTE,
        status=Status.INFO,
        rule=rule,
        detail=detail,
        fingerprint=fingerprint,
    )
