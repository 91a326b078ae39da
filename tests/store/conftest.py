"""Store fixtures: every contract test runs on each available backend."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine

from offboard.store import SqlStore, open_store

POSTGRES_URL = os.environ.get("OFFBOARD_TEST_POSTGRES_URL", "")


def _empty_postgres(url: str) -> None:
    """Drop whatever an earlier test left, so each test starts from an empty database."""
    engine = create_engine(url)
    existing = MetaData()
    existing.reflect(engine)
    existing.drop_all(engine)
    engine.dispose()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(
                not POSTGRES_URL, reason="set OFFBOARD_TEST_POSTGRES_URL to test on PostgreSQL"
            ),
        ),
    ]
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        _empty_postgres(POSTGRES_URL)
        return POSTGRES_URL
    return str(tmp_path / "state" / "offboard.sqlite3")


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    opened = open_store(store_url)
    yield opened
    opened.close()
