"""Conversions between the core's frozen dataclasses and table rows."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, DateTime, type_coerce
from sqlalchemy.engine import RowMapping

from offboard.core.journal import JournalRecord, Phase, RunRecord, SnapshotSummary, Status
from offboard.core.links import Link
from offboard.store.schema import UtcDateTime, links


def link_values(link: Link) -> dict[str, Any]:
    return {
        "identity_id": link.identity_id,
        "account_id": link.account_id,
        "email": link.email,
        "linked_at": link.linked_at,
        "deactivated_by_offboard": link.deactivated_by_offboard,
        "deactivated_at": link.deactivated_at,
        "deactivation_kind": link.deactivation_kind,
        "leaving_since": link.leaving_since,
        "cut_off_by_hand": link.cut_off_by_hand,
        "linked_by_hand": link.linked_by_hand,
    }


LINK_COLUMNS = (
    "identity_id",
    "account_id",
    "email",
    "linked_at",
    "deactivated_by_offboard",
    "deactivated_at",
    "deactivation_kind",
    "leaving_since",
    "linked_by_hand",
    "cut_off_by_hand",
)
"""The links table's columns in ``Link``'s field order, as ``links_from`` takes them."""


def link_columns() -> list[ColumnElement[Any]]:
    """``LINK_COLUMNS`` to select; the datetimes as the backend's own ``DateTime`` reads them
    (``links_from`` makes them aware UTC as ``UtcDateTime`` does, but without two Python
    calls for each of 150,000 cells, most of them empty, in a read of 50,000 links)."""
    return [
        type_coerce(column, DateTime(timezone=True))
        if isinstance(column.type, UtcDateTime)
        else column
        for column in (links.c[name] for name in LINK_COLUMNS)
    ]


def links_from(selected: Iterable[Sequence[Any]]) -> list[Link]:
    """Links from rows of ``link_columns()``, taken by position. The flags are NOT NULL
    booleans, read back as bools."""
    return [
        Link(
            identity_id,
            account_id,
            email,
            _utc(linked_at),
            deactivated_by_offboard,
            None if deactivated_at is None else _utc(deactivated_at),
            deactivation_kind,
            None if leaving_since is None else _utc(leaving_since),
            linked_by_hand,
            cut_off_by_hand,
        )
        for (
            identity_id,
            account_id,
            email,
            linked_at,
            deactivated_by_offboard,
            deactivated_at,
            deactivation_kind,
            leaving_since,
            linked_by_hand,
            cut_off_by_hand,
        ) in selected
    ]


def _utc(value: datetime) -> datetime:
    """What ``UtcDateTime`` makes of a stored datetime: aware, in UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def snapshot_values(summary: SnapshotSummary) -> dict[str, Any]:
    return {
        "side": summary.side,
        "kind": summary.kind,
        "taken_at": summary.taken_at,
        "count": summary.count,
        "complete": summary.complete,
        "user_count": summary.user_count,
        "problems": json.dumps(list(summary.problems)),
    }


def snapshot_from(row: RowMapping) -> SnapshotSummary:
    return SnapshotSummary(
        side=row["side"],
        taken_at=row["taken_at"],
        count=row["count"],
        complete=bool(row["complete"]),
        kind=row["kind"],
        user_count=row["user_count"],
        problems=tuple(json.loads(row["problems"])),
    )


def run_from(row: RowMapping) -> RunRecord:
    return RunRecord(
        id=row["id"],
        kind=row["kind"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        status=row["status"],
        summary=json.loads(row["summary"]),
    )


def journal_values(record: JournalRecord) -> dict[str, Any]:
    return {
        "at": record.at,
        "run_id": record.run_id,
        "action_key": record.action_key,
        "phase": record.phase.value,
        "status": record.status.value,
        "kind": record.kind,
        "identity_id": record.identity_id,
        "account_id": record.account_id,
        "email": record.email,
        "rule": record.rule,
        "reason": record.reason,
        "http_status": record.http_status,
        "detail": record.detail,
        "fingerprint": record.fingerprint,
    }


def journal_from(row: RowMapping) -> JournalRecord:
    return JournalRecord(
        at=row["at"],
        run_id=row["run_id"],
        action_key=row["action_key"],
        phase=Phase(row["phase"]),
        status=Status(row["status"]),
        kind=row["kind"],
        identity_id=row["identity_id"],
        account_id=row["account_id"],
        email=row["email"],
        rule=row["rule"],
        reason=row["reason"],
        http_status=row["http_status"],
        detail=row["detail"],
        seq=row["seq"],
        fingerprint=row["fingerprint"],
    )
