"""Operator acts handed to the leading daemon, on each backend: queued by one process, taken
once by the leader, finished with an outcome that the first process reads back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from offboard.core.operator_requests import RequestKind, RequestState
from offboard.store import SqlStore, open_store
from offboard.store.operator_requests import StoredRequests

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def _queue(requests: StoredRequests, person: str, at: datetime = T0) -> int:
    return requests.queue(
        RequestKind.CUTOFF, person, actor="alice", reason="left today",
        overrides=("max-deactivations",), at=at,
    ).id  # fmt: skip


def test_a_request_is_taken_once_oldest_first_and_its_outcome_read_back(
    store_url: str,
) -> None:
    command, daemon = open_store(store_url), open_store(store_url)
    try:
        asked = StoredRequests(command.engine)
        first = _queue(asked, "ada@acme.example")
        second = _queue(asked, "bob@acme.example", T0 + timedelta(seconds=1))
        leader = StoredRequests(daemon.engine)
        taken = leader.take_next(T0 + timedelta(seconds=2))
        assert taken is not None
        assert (taken.id, taken.state, taken.person) == (
            first,
            RequestState.TAKEN,
            "ada@acme.example",
        )
        assert taken.overrides == ("max-deactivations",)
        assert taken.requested_at == T0
        again = leader.take_next(T0 + timedelta(seconds=3))
        assert again is not None
        assert again.id == second
        assert leader.take_next(T0 + timedelta(seconds=4)) is None  # each taken once
        leader.finish(first, RequestState.DONE, "run 1: deactivate: verified", T0 + timedelta(5))
        seen = asked.get(first)
        assert seen is not None
        assert (seen.state, seen.outcome) == (RequestState.DONE, "run 1: deactivate: verified")
        assert seen.state.finished
        assert [r.id for r in asked.recent(10)] == [second, first]
    finally:
        command.close()
        daemon.close()


def test_a_new_leader_marks_what_the_last_one_had_taken_as_interrupted(store: SqlStore) -> None:
    requests = StoredRequests(store.engine)
    taken_id = _queue(requests, "ada@acme.example")
    waiting_id = _queue(requests, "bob@acme.example")
    assert requests.take_next(T0) is not None
    assert requests.interrupt_taken(T0 + timedelta(minutes=1)) == 1
    interrupted, waiting = requests.get(taken_id), requests.get(waiting_id)
    assert interrupted is not None
    assert interrupted.state is RequestState.INTERRUPTED
    assert "journal" in interrupted.outcome
    assert waiting is not None
    assert waiting.state is RequestState.QUEUED  # still to do


def test_the_leader_is_whoever_holds_a_live_lease(store: SqlStore) -> None:
    requests = StoredRequests(store.engine)
    assert requests.leader("daemon", T0) is None
    assert store.acquire_lease("daemon", "host-a:1234", timedelta(seconds=30), T0)
    assert requests.leader("daemon", T0 + timedelta(seconds=10)) == "host-a:1234"
    assert requests.leader("daemon", T0 + timedelta(seconds=31)) is None  # expired
