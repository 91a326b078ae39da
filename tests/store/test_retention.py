"""Retention, on every backend: what a year of passes that changed nothing leaves is
forgotten; the journal, every run that journaled something, the baselines and what is
still in flight are kept."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from offboard.core.journal import JournalRecord, Phase, SnapshotSummary, Status
from offboard.core.operator_requests import RequestKind, RequestState
from offboard.store import SqlStore
from offboard.store.console_sessions import ConsoleSessions, SessionRecord
from offboard.store.operator_requests import StoredRequests
from offboard.store.retention import prune, prune_step
from offboard.store.schema import console_sessions, journal, metadata, plans, runs, snapshots
from offboard.store.sizes import table_sizes

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
KEEP = timedelta(days=30)
OLD = NOW - timedelta(days=40)


def _pass(store: SqlStore, at: datetime, *, acted: bool = False, kind: str = "daemon") -> str:
    run = store.start_run(kind, at)
    store.save_plan(run, "fp", '{"version": 1}')
    if acted:
        store.append(
            JournalRecord(at=at, run_id=run, action_key="deactivate:id-1:acc-1",
                          phase=Phase.INTENT, status=Status.PENDING, kind="deactivate",
                          identity_id="id-1", account_id="acc-1", fingerprint="fp")
        )  # fmt: skip
    store.finish_run(run, at + timedelta(seconds=3), "applied", {})
    return run


def _count(store: SqlStore, table: object) -> int:
    with store.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(table)) or 0)  # type: ignore[arg-type]


def _run_ids(store: SqlStore) -> set[str]:
    return {run.id for run in store.runs(limit=10_000)}


def test_old_runs_that_journaled_nothing_go_with_their_plans(store: SqlStore) -> None:
    quiet = [_pass(store, OLD + timedelta(minutes=15 * n)) for n in range(5)]
    acted = _pass(store, OLD + timedelta(hours=3), acted=True)
    recent = _pass(store, NOW - timedelta(days=1))
    journal_before = store.journal()

    pruned = prune(store.engine, NOW - KEEP, NOW, keep_newest=0)

    assert pruned.runs == 5
    assert pruned.plans == 5
    assert _run_ids(store) == {acted, recent}
    assert store.plan_document(acted) is not None  # the plan that acted stays with its run
    assert store.plan_document(recent) is not None
    assert all(store.plan_document(run) is None for run in quiet)
    assert store.journal() == journal_before  # the audit log is never touched


def test_the_newest_runs_are_kept_however_old(store: SqlStore) -> None:
    """A daemon stopped for longer than the retention still shows its last passes (and the
    console the last full plan's blocked people)."""
    made = [_pass(store, OLD + timedelta(minutes=15 * n)) for n in range(5)]

    pruned = prune(store.engine, NOW - KEEP, NOW, keep_newest=2)

    assert pruned.runs == 3
    assert _run_ids(store) == set(made[-2:])


def test_a_run_still_running_inside_the_retention_is_kept(store: SqlStore) -> None:
    running = store.start_run("daemon", NOW - timedelta(minutes=1))
    dead = store.start_run("daemon", OLD)  # a process killed mid-pass, journaled nothing

    prune(store.engine, NOW - KEEP, NOW, keep_newest=0)

    assert _run_ids(store) == {running}
    assert dead not in _run_ids(store)


def test_old_snapshot_summaries_go_but_the_newest_of_each_side_and_kind_stays(
    store: SqlStore,
) -> None:
    for n in range(4):
        at = OLD + timedelta(minutes=15 * n)
        store.record_snapshot(SnapshotSummary("keycloak", at, 100 + n, True, "full"))
        store.record_snapshot(SnapshotSummary("keycloak", at, 1, True, "targeted"))
    unaccepted = SnapshotSummary("keycloak", OLD - timedelta(days=100), 3, True, "unaccepted")
    store.record_snapshot(unaccepted)
    store.record_snapshot(SnapshotSummary("keycloak", NOW, 1, True, "targeted"))

    pruned = prune(store.engine, NOW - KEEP, NOW, keep_newest=0)

    assert pruned.snapshots == 4 + 3  # every old targeted one (a newer one exists), 3 full
    baseline = store.last_snapshot("keycloak", "full")
    assert baseline is not None
    assert baseline.count == 103  # the count-drop guard's baseline, though 40 days old
    assert store.last_snapshot("keycloak", "unaccepted") == unaccepted
    assert _count(store, snapshots) == 3


def test_settled_operator_requests_go_queued_and_taken_ones_stay(store: SqlStore) -> None:
    requests = StoredRequests(store.engine)

    def asked(person: str, at: datetime) -> int:
        return requests.queue(RequestKind.CUTOFF, person, actor="alice", reason="left",
                              overrides=(), at=at).id  # fmt: skip

    done, queued, taken, fresh = (asked(p, OLD) for p in ("a@x", "b@x", "c@x", "d@x"))
    requests.finish(done, RequestState.DONE, "verified", OLD + timedelta(minutes=1))
    assert requests.take_next(OLD) is not None  # takes the oldest queued: b@x
    requests.finish(fresh, RequestState.REFUSED, "protected", NOW - timedelta(days=1))

    pruned = prune(store.engine, NOW - KEEP, NOW, keep_newest=0)

    assert pruned.requests == 1
    assert {r.id for r in requests.recent(10)} == {queued, taken, fresh}


def test_one_step_forgets_at_most_one_batch_of_each(store: SqlStore) -> None:
    for n in range(7):
        _pass(store, OLD + timedelta(minutes=15 * n))
        store.record_snapshot(SnapshotSummary("atlassian", OLD, n, True, "covering"))

    first = prune_step(store.engine, NOW - KEEP, NOW, batch=3, keep_newest=0)

    assert (first.runs, first.plans, first.snapshots) == (3, 3, 3)
    rest = prune(store.engine, NOW - KEEP, NOW, batch=3, keep_newest=0)
    assert (rest.runs, rest.snapshots) == (4, 3)  # the newest covering read stays
    assert prune_step(store.engine, NOW - KEEP, NOW, keep_newest=0).total == 0
    assert _count(store, runs) == _count(store, plans) == 0
    assert _count(store, journal) == 0


def test_console_sessions_past_their_end_go_with_their_tokens(store: SqlStore) -> None:
    """Nobody logging in for a while used to leave ended sessions (and their Keycloak
    refresh tokens) in the store until the next login."""
    sessions = ConsoleSessions(store.engine, lambda: NOW)
    record = SessionRecord(
        "sub",
        "olga",
        "Olga",
        None,
        frozenset({"viewer"}),
        "c" * 43,
        "id.token.sig",
        OLD,
        OLD,
        OLD + timedelta(hours=8),
        "refresh",
    )
    sessions.open("ended", record)
    sessions.open("live", replace(record, last_seen_at=NOW, expires_at=NOW + timedelta(hours=1)))

    pruned = prune(store.engine, NOW - KEEP, NOW, keep_newest=0)

    assert pruned.sessions == 1
    assert sessions.find("live", timedelta(hours=1)) is not None
    assert _count(store, console_sessions) == 1


def test_a_dry_run_counts_what_would_go_and_forgets_nothing(store: SqlStore) -> None:
    for n in range(3):
        _pass(store, OLD + timedelta(minutes=15 * n))

    would = prune(store.engine, NOW - KEEP, NOW, batch=2, keep_newest=0, dry_run=True)

    assert (would.runs, would.plans) == (3, 3)
    assert _count(store, runs) == _count(store, plans) == 3


def test_sizes_count_every_table_and_its_bytes(store: SqlStore) -> None:
    _pass(store, NOW)

    found = {size.name: size for size in table_sizes(store.engine)}

    assert set(found) == set(metadata.tables)
    assert (found["runs"].rows, found["plans"].rows, found["journal"].rows) == (1, 1, 0)
    assert all(size.bytes is not None and size.bytes > 0 for size in found.values())
