"""The licence reports' history: one row per check, read newest first for the trend."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from offboard.store.schema import licence_reports


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
