"""The licence check's tables: reports (one row per check, newest first for the trend) and
the inactivity marks (what the inactivity policy did to each account)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Engine

from offboard.store.schema import inactivity_marks, licence_reports

if TYPE_CHECKING:  # imported by marks() itself: a deprovisioning run never reads them
    from offboard.core.inactivity import InactivityMark


def record(engine: Engine, taken_at: datetime, summary: dict[str, object]) -> None:
    seats = summary.get("reclaimable_seats", 0)
    values = {
        "taken_at": taken_at,
        "reclaimable_seats": int(seats) if isinstance(seats, int | float | str) else 0,
        "summary": json.dumps(summary, sort_keys=True),
    }
    with engine.begin() as connection:
        connection.execute(insert(licence_reports).values(values))


def latest(engine: Engine, limit: int) -> list[tuple[datetime, dict[str, object]]]:
    query = (
        select(licence_reports.c.taken_at, licence_reports.c.summary)
        .order_by(licence_reports.c.taken_at.desc(), licence_reports.c.id.desc())
        .limit(limit)
    )
    with engine.connect() as connection:
        return [(row.taken_at, json.loads(row.summary)) for row in connection.execute(query)]


def marks(engine: Engine) -> list[InactivityMark]:
    from offboard.core.inactivity import InactivityMark

    with engine.connect() as connection:
        return [
            InactivityMark(r.account_id, r.identity_id, r.warned_at, r.removed_at, r.removal_kind)
            for r in connection.execute(select(inactivity_marks))
        ]


def save_marks(engine: Engine, changed: list[InactivityMark], cleared: list[str]) -> None:
    """Replace the marks of ``changed`` accounts and drop those of ``cleared`` ones, at once."""
    ids = [m.account_id for m in changed] + cleared
    with engine.begin() as connection:
        if ids:
            connection.execute(
                delete(inactivity_marks).where(inactivity_marks.c.account_id.in_(ids))
            )
        if changed:
            connection.execute(
                insert(inactivity_marks),
                [
                    {"account_id": m.account_id, "identity_id": m.identity_id,
                     "warned_at": m.warned_at, "removed_at": m.removed_at,
                     "removal_kind": m.removal_kind}
                    for m in changed
                ],
            )  # fmt: skip
