"""The notifications table on each backend: what the leader remembers between checks, and
what a second process (a restart, the standby) reads back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from offboard.core.notifications import MAX_KEY, Condition, Kind, Record
from offboard.store import SqlStore, open_store
from offboard.store.notifications import MemoryNotifications, StoredNotifications

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def rows(key: str, *channels: str) -> list[Record]:
    return [Record(key, channel, "hold", T0, T0) for channel in channels]


@pytest.mark.parametrize("memory", [False, True])
def test_open_sent_failed_seen_and_cleared_read_back(store: SqlStore, memory: bool) -> None:
    state = MemoryNotifications() if memory else StoredNotifications(store.engine)
    state.open(rows("hold:deprovisioning:1", "email", "slack"))
    state.sent("hold:deprovisioning:1", "email", T0 + timedelta(seconds=5))
    state.failed("hold:deprovisioning:1", "slack")
    state.seen(["hold:deprovisioning:1"], T0 + timedelta(minutes=1))
    got = {r.channel: r for r in state.records()}
    assert got["email"].sent_at == T0 + timedelta(seconds=5)
    assert (got["email"].attempts, got["slack"].attempts) == (1, 1)
    assert got["slack"].sent_at is None
    assert {r.last_seen_at for r in got.values()} == {T0 + timedelta(minutes=1)}
    state.clear([("hold:deprovisioning:1", "email")])
    assert [r.channel for r in state.records()] == ["slack"]


def test_another_process_reads_what_the_first_wrote(store_url: str) -> None:
    first = open_store(store_url)
    StoredNotifications(first.engine).open(rows("credential:atlassian.api_key:14", "webhook"))
    first.close()
    second = open_store(store_url)
    try:
        (record,) = StoredNotifications(second.engine).records()
        assert record.key == "credential:atlassian.api_key:14"
        assert record.opened_at == T0
        with pytest.raises(IntegrityError):  # two leaders cannot both open the same pair
            StoredNotifications(second.engine).open(rows(record.key, "webhook"))
    finally:
        second.close()


def test_a_long_key_fits_and_stays_unique(store: SqlStore) -> None:
    long = "blocked:ambiguous-identities:" + "0" * 64 + ":" + "x" * 900
    keys = [Condition(Kind.BLOCKED_PERSON, long + tail, "t").key for tail in ("a", "b")]
    assert len(set(keys)) == 2
    assert all(len(key) <= MAX_KEY and key.startswith("blocked:ambiguous") for key in keys)
    state = StoredNotifications(store.engine)
    for key in keys:
        state.open(rows(key, "email"))
    assert sorted(r.key for r in state.records()) == sorted(keys)
