"""Console sessions in the store (both backends): found while live, gone after logout, idle
time or their absolute end, and shared by every replica that opens the same store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from offboard.store import SqlStore, open_store
from offboard.store.console_sessions import TOUCH_EVERY, ConsoleSessions, SessionRecord

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
IDLE = timedelta(minutes=30)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def _record(**changes: object) -> SessionRecord:
    values: dict[str, object] = {
        "subject": "5f0c-subject",
        "username": "olga",
        "name": "Olga Operator",
        "email": "olga@example.test",
        "roles": frozenset({"viewer", "operator"}),
        "csrf_token": "c" * 43,
        "id_token": "header.payload.signature",
        "created_at": T0,
        "last_seen_at": T0,
        "expires_at": T0 + timedelta(hours=8),
    }
    values.update(changes)
    return SessionRecord(**values)  # type: ignore[arg-type]


def test_an_opened_session_is_found_as_recorded(store: SqlStore) -> None:
    sessions = ConsoleSessions(store.engine, Clock())
    sessions.open("k1", _record())
    assert sessions.find("k1", IDLE) == _record()
    assert sessions.find("unknown", IDLE) is None


def test_a_closed_session_is_gone_and_its_id_token_returned_once(store: SqlStore) -> None:
    sessions = ConsoleSessions(store.engine, Clock())
    sessions.open("k1", _record())
    closed = sessions.close("k1")
    assert closed is not None
    assert closed.id_token == "header.payload.signature"
    assert sessions.find("k1", IDLE) is None
    assert sessions.close("k1") is None


def test_idle_sessions_end_and_use_keeps_them_alive(store: SqlStore) -> None:
    clock = Clock()
    sessions = ConsoleSessions(store.engine, clock)
    sessions.open("used", _record())
    sessions.open("idle", _record())
    for _ in range(3):  # 3 x 20 min of use: past the idle time since the login, still live
        clock.now += timedelta(minutes=20)
        assert sessions.find("used", IDLE) is not None
    assert sessions.find("idle", IDLE) is None


def test_a_session_ends_at_its_absolute_end_however_used(store: SqlStore) -> None:
    clock = Clock()
    sessions = ConsoleSessions(store.engine, clock)
    sessions.open("k1", _record(expires_at=T0 + timedelta(minutes=50)))
    clock.now += timedelta(minutes=25)
    assert sessions.find("k1", IDLE) is not None
    clock.now += timedelta(minutes=25)
    assert sessions.find("k1", IDLE) is None


def test_last_seen_is_written_at_most_once_a_minute(store: SqlStore) -> None:
    clock = Clock()
    sessions = ConsoleSessions(store.engine, clock)
    sessions.open("k1", _record())
    clock.now += TOUCH_EVERY / 2
    sessions.find("k1", IDLE)
    found = sessions.find("k1", IDLE)
    assert found is not None
    assert found.last_seen_at == T0
    clock.now += TOUCH_EVERY
    sessions.find("k1", IDLE)
    found = sessions.find("k1", IDLE)
    assert found is not None
    assert found.last_seen_at == clock.now


def test_pruning_deletes_only_ended_sessions(store: SqlStore) -> None:
    clock = Clock()
    sessions = ConsoleSessions(store.engine, clock)
    sessions.open("short", _record(expires_at=T0 + timedelta(minutes=5)))
    sessions.open("long", _record())
    clock.now += timedelta(minutes=10)
    assert sessions.prune() == 1
    assert sessions.find("long", IDLE) is not None
    clock.now += timedelta(hours=1)
    assert sessions.prune(IDLE) == 1


def test_replicas_on_one_store_share_sessions_and_logouts(store_url: str) -> None:
    first, second = open_store(store_url), open_store(store_url)
    try:
        clock = Clock()
        ConsoleSessions(first.engine, clock).open("k1", _record())
        assert ConsoleSessions(second.engine, clock).find("k1", IDLE) is not None
        ConsoleSessions(second.engine, clock).close("k1")
        assert ConsoleSessions(first.engine, clock).find("k1", IDLE) is None
    finally:
        first.close()
        second.close()
