"""How a full run chooses its Atlassian read: the fewer requests, or what the operator forced."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from offboard.core.covering import Needs
from offboard.core.journal import SnapshotSummary
from offboard.core.links import Link
from offboard.service.covering_reads import AUTO, TARGETED, choose
from offboard.store import SqlStore, open_store

NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = open_store(tmp_path / "offboard.sqlite3")
    yield opened
    opened.close()


def _needs(ids: int, emails: int = 0) -> Needs:
    return Needs(
        frozenset(f"acc-{n}" for n in range(ids)), frozenset(f"p{n}@x.test" for n in range(emails))
    )


def _walked(store: SqlStore, accounts: int) -> None:
    store.record_snapshot(SnapshotSummary("atlassian", NOW, accounts, True, "full"))


def test_auto_takes_the_targeted_read_when_it_is_fewer_requests(store: SqlStore) -> None:
    _walked(store, 10_000)
    targeted, why = choose(AUTO, _needs(220, 5), store)
    assert targeted
    assert why == "targeted: 23 searches against a walk of at least 100 pages"


def test_auto_walks_when_the_searches_would_be_as_many(store: SqlStore) -> None:
    _walked(store, 1_000)
    targeted, why = choose(AUTO, _needs(100), store)
    assert not targeted
    assert why == "walk: 10 pages against 10 targeted searches"


def test_a_never_walked_directory_is_at_least_as_large_as_its_links(store: SqlStore) -> None:
    store.upsert_links(Link(f"id-{n}", f"acc-{n}", f"p{n}@x.test", NOW) for n in range(250))
    assert choose(AUTO, _needs(20), store) == (
        True,
        "targeted: 2 searches against a walk of at least 3 pages",
    )
    assert not choose(AUTO, _needs(30), store)[0]


def test_targeted_is_forced_whatever_it_costs(store: SqlStore) -> None:
    targeted, why = choose(TARGETED, _needs(5_000), store)
    assert targeted
    assert why.endswith("atlassian.directory_read = targeted")
