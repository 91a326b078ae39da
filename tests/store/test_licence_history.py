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


def test_inactivity_marks_are_replaced_and_cleared_together(store: SqlStore) -> None:
    from offboard.core.inactivity import InactivityMark

    warned = InactivityMark("acc-1", "kc-1", warned_at=T0)
    other = InactivityMark("acc-2", "kc-2", warned_at=T0)
    store.save_inactivity_marks([warned, other], [])
    removed = InactivityMark("acc-1", "kc-1", T0, T0 + timedelta(days=30), "suspend")
    store.save_inactivity_marks([removed], ["acc-2"])
    assert store.inactivity_marks() == [removed]
