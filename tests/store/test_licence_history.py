"""The licence checks' history: each check's figures kept, read newest first (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from offboard.store import SqlStore

T0 = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)


def test_reports_are_kept_and_read_newest_first(store: SqlStore) -> None:
    for day in range(3):
        figures: dict[str, object] = {"reclaimable_seats": 10 - day, "seats": {"confluence": {}}}
        store.record_licence_report(T0 + timedelta(days=day), figures)
    latest = store.licence_reports(limit=2)
    assert [(at, f["reclaimable_seats"]) for at, f in latest] == [
        (T0 + timedelta(days=2), 8),
        (T0 + timedelta(days=1), 9),
    ]
    assert latest[0][1]["seats"] == {"confluence": {}}


def test_an_empty_history(store: SqlStore) -> None:
    assert store.licence_reports() == []
