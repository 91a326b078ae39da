"""Crash recovery's scan for intents without an outcome reads only what may be unsettled."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import event, insert
from sqlalchemy.engine import Connection

from offboard.core.journal import JournalRecord, Phase, Status
from offboard.store import SqlStore
from offboard.store.rows import journal_values
from offboard.store.schema import journal
from offboard.store.unfinished import FULL_SCAN_SECONDS

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _record(run_id: str, n: int, phase: Phase) -> JournalRecord:
    status = Status.PENDING if phase is Phase.INTENT else Status.SUCCEEDED
    return JournalRecord(T0, run_id, f"deactivate:id-{n}:acc-{n}", phase, status,
                         kind="deactivate", identity_id=f"id-{n}", fingerprint="fp")  # fmt: skip


def _done(store: SqlStore, run_id: str, numbers: range) -> None:
    for n in numbers:
        store.append_all([_record(run_id, n, Phase.INTENT), _record(run_id, n, Phase.OUTCOME)])


def _keys(found: list[JournalRecord]) -> list[str]:
    return [record.action_key for record in found]


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _scan_starts(store: SqlStore) -> list[int]:
    """The first ``seq`` each later scan asks the database for (its one number parameter)."""
    starts: list[int] = []

    def before(
        _c: Connection, _cursor: object, statement: str, parameters: object, *_: object
    ) -> None:
        if "later" in statement:  # the scan's self-join, on any backend
            values = parameters.values() if isinstance(parameters, dict) else parameters
            assert isinstance(values, Iterable)
            starts.extend(value for value in values if isinstance(value, int))

    event.listen(store.engine, "before_cursor_execute", before)
    return starts


def test_a_later_scan_starts_past_every_settled_intent(store: SqlStore) -> None:
    _done(store, "old", range(50))
    store.append(_record("r1", 100, Phase.INTENT))  # in flight, or crashed
    _done(store, "r1", range(101, 110))
    assert _keys(store.unfinished()) == ["deactivate:id-100:acc-100"]
    first_open = store.unfinished()[0].seq
    assert store.unfinished_scan.settled_below == first_open, "it stops at the open intent"

    store.append(_record("r1", 100, Phase.OUTCOME))
    store.append(_record("r2", 200, Phase.INTENT))
    assert _keys(store.unfinished()) == ["deactivate:id-200:acc-200"]
    store.append(_record("r2", 200, Phase.RECOVERED))
    assert store.unfinished() == []
    last = max(record.seq or 0 for record in store.journal())
    assert store.unfinished_scan.settled_below == last + 1
    store.append(_record("r3", 300, Phase.INTENT))  # found however far the watermark went
    assert _keys(store.unfinished()) == ["deactivate:id-300:acc-300"]


def test_the_scan_reads_from_the_watermark_not_from_the_beginning(store: SqlStore) -> None:
    _done(store, "old", range(200))
    starts = _scan_starts(store)
    store.unfinished()
    store.append(_record("r1", 1, Phase.INTENT))
    assert len(store.unfinished()) == 1
    assert starts[0] == 0
    assert starts[1] > 400, "the second scan skipped the 400 settled records"


def test_an_intent_committed_below_the_watermark_is_found_by_the_next_full_scan(
    store: SqlStore,
) -> None:
    """PostgreSQL hands out seq outside transactions: a writer paused between its insert
    and its commit can make an intent appear below rows already scanned. Here a row written
    with a seq five past the last leaves the gap such a writer would fill."""
    clock = _Clock()
    store.unfinished_scan.monotonic = clock
    _done(store, "old", range(5))
    last = max(record.seq or 0 for record in store.journal())
    ahead = _record("r1", 10, Phase.OUTCOME)
    late = _record("late", 20, Phase.INTENT)
    with store.engine.begin() as connection:
        connection.execute(insert(journal).values(**journal_values(ahead), seq=last + 5))
    assert store.unfinished() == []
    assert store.unfinished_scan.settled_below == last + 6
    with store.engine.begin() as connection:  # the paused writer's commit, inside the gap
        connection.execute(insert(journal).values(**journal_values(late), seq=last + 2))
    clock.now += FULL_SCAN_SECONDS - 1
    assert store.unfinished() == [], "an incremental scan starts past it"
    clock.now += 1
    assert _keys(store.unfinished()) == ["deactivate:id-20:acc-20"], "the full scan finds it"
    assert store.unfinished_scan.settled_below == last + 2
