"""The leader lease: one holder at a time, takeover on expiry, step down on failure."""

from __future__ import annotations

from datetime import timedelta

from offboard.service.leasing import LeaderCursors, Lease
from tests.service.fakes import FakeClock, FakeStore

TTL = timedelta(seconds=30)


def two_replicas() -> tuple[Lease, Lease, FakeStore, FakeClock]:
    store, clock = FakeStore(), FakeClock()
    return (
        Lease(store, clock, holder="a", ttl=TTL),
        Lease(store, clock, holder="b", ttl=TTL),
        store,
        clock,
    )


def test_only_one_replica_holds_the_lease() -> None:
    a, b, _, _ = two_replicas()
    assert a.refresh()
    assert not b.refresh()
    assert a.held
    assert not b.held


def test_the_other_replica_takes_over_when_the_lease_expires() -> None:
    a, b, _, clock = two_replicas()
    a.refresh()
    clock.advance(29)
    assert not b.refresh()
    clock.advance(2)  # a stopped renewing (crashed); its lease ran out
    assert b.refresh()
    assert not a.refresh()  # the old leader finds out at its next renewal and steps down
    assert not a.held


def test_renewing_keeps_the_lease() -> None:
    a, b, _, clock = two_replicas()
    for _ in range(5):
        assert a.refresh()
        clock.advance(a.renew_every)
        assert not b.refresh()


def test_a_failed_renewal_means_stepping_down() -> None:
    a, _, store, _ = two_replicas()
    a.refresh()
    store.fail_leases = True
    assert not a.refresh()
    assert not a.held


def test_release_lets_the_other_replica_take_over_at_once() -> None:
    a, b, _, _ = two_replicas()
    a.refresh()
    a.release()
    assert b.refresh()
    a.release()  # releasing a lease one does not hold is harmless
    assert b.held


def test_holder_names_are_unique_per_process_instance() -> None:
    store, clock = FakeStore(), FakeClock()
    assert Lease(store, clock).holder != Lease(store, clock).holder


def test_the_fence_carries_the_token_of_the_current_leadership() -> None:
    a, b, _, clock = two_replicas()
    assert a.fence is None  # not the leader yet
    a.refresh()
    first = a.fence
    assert first is not None
    assert first.holder == "a"
    clock.advance(a.renew_every)
    a.refresh()
    assert a.fence == first, "a renewal keeps the token"
    clock.advance(31)  # a was paused past its lease
    assert b.refresh()
    assert b.fence is not None
    assert b.fence.token == first.token + 1
    assert not a.refresh()
    assert a.fence is None


def test_only_the_live_leader_moves_the_event_cursor() -> None:
    a, b, store, clock = two_replicas()
    a.refresh()
    cursors = LeaderCursors(store, a)
    cursors.set_cursor("events", "10")
    assert store.cursor("events") == "10"
    clock.advance(31)  # a paused past its lease; b takes over and moves on
    assert b.refresh()
    LeaderCursors(store, b).set_cursor("events", "20")
    cursors.set_cursor("events", "15")  # a wakes up and polls before it renews
    assert cursors.cursor("events") == "20"
