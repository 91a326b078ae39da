"""The roles and grants of docs/howto/postgresql.md, run as written: the owner migrates, the
application role does all of the store's work and cannot change the schema."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ProgrammingError

from offboard.core.accounts import AccountId
from offboard.core.identities import IdentityId
from offboard.core.journal import JournalRecord, Phase, SnapshotSummary, Status
from offboard.core.links import Link
from offboard.store import open_store, store_engine
from offboard.store.backup import backup
from offboard.store.migrating import migrate
from tests.store.conftest import POSTGRES_URL

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "howto" / "postgresql.md"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="set OFFBOARD_TEST_POSTGRES_URL to test on PostgreSQL"
)


@dataclass
class Roles:
    owner: URL
    app: URL


def _blocks(names: dict[str, str]) -> list[str]:
    """The guide's SQL blocks, with this test's unique names for roles and database."""
    blocks = re.findall(r"```sql\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 2
    renamed = []
    for block in blocks:
        for old, new in names.items():
            block = re.sub(rf"\b{old}\b", new, block)
        renamed.append(block)
    return renamed


@pytest.fixture
def roles() -> Iterator[Roles]:
    tail = uuid.uuid4().hex[:8]
    names = {
        "offboard_owner": f"owner_{tail}",
        "offboard_app": f"app_{tail}",
        "DATABASE offboard": f"DATABASE db_{tail}",
    }
    cluster, database = _blocks(names)
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for statement in cluster.split(";"):
            if statement.strip():
                connection.execute(text(statement))
    base = make_url(POSTGRES_URL).set(database=f"db_{tail}")
    owner = base.set(username=names["offboard_owner"], password="change-me-owner")
    app = base.set(username=names["offboard_app"], password="change-me-app")
    as_owner = create_engine(owner)
    with as_owner.begin() as connection:
        connection.execute(text(database))
    as_owner.dispose()
    try:
        yield Roles(owner, app)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS db_{tail} WITH (FORCE)"))
            for role in (names["offboard_app"], names["offboard_owner"]):
                connection.execute(text(f"DROP ROLE IF EXISTS {role}"))
        admin.dispose()


def test_the_app_role_runs_the_store_and_cannot_change_the_schema(
    roles: Roles, tmp_path: Path
) -> None:
    owner = store_engine(roles.owner.render_as_string(hide_password=False))
    migrate(owner)
    owner.dispose()

    store = open_store(roles.app.render_as_string(hide_password=False), upgrade=False)
    try:
        store.upsert_links([Link(IdentityId("id-1"), AccountId("acc-1"), "a@example.com", T0)])
        run = store.start_run("apply", T0)
        store.save_plan(run, "fp", "{}")
        store.append(
            JournalRecord(
                at=T0, run_id=run, action_key="deactivate:id-1", phase=Phase.INTENT,
                status=Status.PENDING, kind="deactivate", fingerprint="fp",
            )
        )  # fmt: skip
        store.finish_run(run, T0, "done", {})
        store.record_snapshot(SnapshotSummary("keycloak", T0, 1, True))
        store.set_cursor("admin-events", "1")
        assert store.acquire_lease("daemon", "a", timedelta(seconds=30), T0)
        store.release_lease("daemon", "a")
        assert backup(store.engine, tmp_path / "b.sqlite3").rows["journal"] == 1
        with pytest.raises(ProgrammingError), store.engine.begin() as connection:
            connection.execute(text("CREATE TABLE sneaky (i integer)"))
        with pytest.raises(ProgrammingError), store.engine.begin() as connection:
            connection.execute(text("DROP TABLE journal"))
    finally:
        store.close()
