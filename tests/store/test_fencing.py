"""Fencing tokens on the lease, on every backend: bumped at each take-over, stale writes refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from offboard.core.journal import JournalRecord, Phase, Status
from offboard.core.links import Link
from offboard.ports import Fence, FenceLostError
from offboard.store import SqlStore

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
TTL = timedelta(seconds=3)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _fence(store: SqlStore, holder: str, now: datetime) -> Fence:
    token = store.lease_token("daemon", holder, now)
    assert token is not None, f"{holder} should hold the lease at {now}"
    return Fence("daemon", holder, token)


def _intent(key: str) -> JournalRecord:
    return JournalRecord(
        at=T0, run_id="r", action_key=key, phase=Phase.INTENT, status=Status.PENDING
    )


def test_the_token_is_kept_on_renewal_and_bumped_at_every_take_over(store: SqlStore) -> None:
    assert store.acquire_lease("daemon", "a", TTL, _at(0))
    first = store.lease_token("daemon", "a", _at(0))
    assert first == 1
    assert store.acquire_lease("daemon", "a", TTL, _at(2))  # renewal
    assert store.lease_token("daemon", "a", _at(2)) == first
    assert store.lease_token("daemon", "b", _at(2)) is None  # b holds nothing
    assert store.acquire_lease("daemon", "b", TTL, _at(6))  # a's lease expired: take-over
    assert store.lease_token("daemon", "b", _at(6)) == first + 1
    assert store.lease_token("daemon", "a", _at(6)) is None
    store.release_lease("daemon", "b")
    assert store.lease_token("daemon", "b", _at(6)) is None  # released: held by nobody
    assert store.acquire_lease("daemon", "a", TTL, _at(7))
    assert store.lease_token("daemon", "a", _at(7)) == first + 2  # never goes back


def test_the_same_holder_after_its_own_lease_expired_gets_a_new_token(store: SqlStore) -> None:
    assert store.acquire_lease("daemon", "a", TTL, _at(0))
    assert store.acquire_lease("daemon", "a", TTL, _at(10))  # expired in between
    assert store.lease_token("daemon", "a", _at(10)) == 2


def test_fence_holds_only_for_the_live_holder_with_the_same_token(store: SqlStore) -> None:
    assert store.acquire_lease("daemon", "a", TTL, _at(0))
    fence = _fence(store, "a", _at(0))
    assert store.fence_holds(fence, _at(1))
    assert not store.fence_holds(fence, _at(3.5)), "expired, even though nobody took over"
    assert not store.fence_holds(Fence("daemon", "a", fence.token + 1), _at(1))
    assert not store.fence_holds(Fence("daemon", "b", fence.token), _at(1))
    assert not store.fence_holds(Fence("other", "a", fence.token), _at(1))


def test_journal_writes_under_a_stale_token_are_refused_and_write_nothing(
    store: SqlStore,
) -> None:
    assert store.acquire_lease("daemon", "a", TTL, _at(0))
    old = _fence(store, "a", _at(0))
    store.append(_intent("before"), fence=old)  # accepted while a leads
    assert store.acquire_lease("daemon", "b", TTL, _at(5))  # a was paused; b takes over
    new = _fence(store, "b", _at(5))
    link = Link("id-1", "acc-1", "one@example.com", T0)  # type: ignore[arg-type]
    with pytest.raises(FenceLostError, match="taken over since"):
        store.append(_intent("stale-one"), fence=old)
    with pytest.raises(FenceLostError):
        store.append_all([_intent("stale-all")], [link], fence=old)
    store.append_all([_intent("current")], fence=new)
    assert [r.action_key for r in store.journal()] == ["before", "current"]
    assert store.links() == [], "the links of a refused write are not kept either"


def test_a_stale_leader_that_renews_late_cannot_take_back_the_lease(store: SqlStore) -> None:
    assert store.acquire_lease("daemon", "a", TTL, _at(0))
    assert store.acquire_lease("daemon", "b", TTL, _at(5))
    assert not store.acquire_lease("daemon", "a", TTL, _at(6))  # a wakes up: refused
    assert store.lease_token("daemon", "b", _at(6)) == 2
