"""Bring a store's schema up to date, and refuse a store from a newer offboard.

An empty database is always given the schema (there is nothing to lose). Upgrading a store
that holds data happens on open only when asked (``store.auto_migrate``), else explicitly by
``offboard store migrate``: replicas of the old version may still be running against it.

A store that is already current is recognised with two plain reads, without alembic, whose
import costs about 0.2 s of every command's start-up; anything else takes the full way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection, Engine

from offboard.store.errors import StoreMigrationPendingError, StoreVersionError
from offboard.store.schema import SCHEMA_VERSION, store_meta

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_KEY = "schema_version"
HEAD_REVISION = f"{SCHEMA_VERSION:04d}"
"""The newest migration's revision: each one is numbered as the schema version it makes
(``tests/store/test_migration_fast_path.py`` checks it against alembic's own head)."""
ALEMBIC_TABLE = "alembic_version"


def is_current(connection: Connection) -> bool:
    """True when the store is at this offboard's revision and version (no alembic needed)."""
    if stored_version(connection) != SCHEMA_VERSION:
        return False
    if not inspect(connection).has_table(ALEMBIC_TABLE):
        return False
    revisions = connection.scalars(text("select version_num from alembic_version")).all()
    return list(revisions) == [HEAD_REVISION]


def _alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def stored_version(connection: Connection) -> int | None:
    """The ``schema_version`` the store says it has, or None for an empty database."""
    if not inspect(connection).has_table(store_meta.name):
        return None
    value = connection.scalar(select(store_meta.c.value).where(store_meta.c.key == VERSION_KEY))
    return int(value) if value is not None else None


def _refuse_newer(connection: Connection, script: ScriptDirectory) -> None:
    from alembic.runtime.migration import MigrationContext
    from alembic.util import CommandError

    found = stored_version(connection)
    if found is not None and found > SCHEMA_VERSION:
        raise StoreVersionError(found, SCHEMA_VERSION)
    revision = MigrationContext.configure(connection).get_current_revision()
    if revision is None:
        return
    try:
        script.get_revision(revision)
    except CommandError:
        # A revision we do not ship: only a newer offboard can have written it.
        raise StoreVersionError(found or SCHEMA_VERSION + 1, SCHEMA_VERSION, revision) from None


def check_current(connection: Connection) -> int | None:
    """For reading without migrating: StoreVersionError when a newer offboard wrote the
    store, its (older) version when it needs migrating, None when it is current."""
    if is_current(connection):
        return None
    from alembic.script import ScriptDirectory

    _refuse_newer(connection, ScriptDirectory.from_config(_alembic_config()))
    found = stored_version(connection)
    return found if found is not None and found < SCHEMA_VERSION else None


@dataclass(frozen=True, slots=True)
class MigrationState:
    """Where a store's schema stands against this offboard's."""

    revision: str | None
    """The store's migration revision; None for an empty database."""
    head: str
    """The newest revision this offboard ships."""
    version: int | None
    """The store's ``schema_version`` (None when empty)."""

    @property
    def pending(self) -> bool:
        """True when ``offboard store migrate`` has work to do."""
        return self.revision != self.head or self.version != SCHEMA_VERSION


def migration_state(engine: Engine) -> MigrationState:
    """Read the store's revision without changing anything; refuses a newer store."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config())
    with engine.connect() as connection:
        _refuse_newer(connection, script)
        revision = MigrationContext.configure(connection).get_current_revision()
        head = script.get_current_head()
        assert head is not None  # the package ships its migrations
        return MigrationState(revision, head, stored_version(connection))


def migrate(engine: Engine, *, upgrade: bool = True) -> None:
    """Upgrade to the newest schema this offboard knows; never downgrade.

    With ``upgrade=False`` only an empty database is given the schema; a store at an older
    revision raises :class:`StoreMigrationPendingError` and is left as it is.
    """
    with engine.begin() as connection:
        if not is_current(connection):
            _migrate(connection, upgrade=upgrade)


def _migrate(connection: Connection, *, upgrade: bool) -> None:
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = _alembic_config()
    script = ScriptDirectory.from_config(config)
    _refuse_newer(connection, script)
    current = MigrationContext.configure(connection).get_current_revision()
    if current is not None and current != script.get_current_head() and not upgrade:
        raise StoreMigrationPendingError(stored_version(connection), SCHEMA_VERSION)
    if current != script.get_current_head():
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    if stored_version(connection) != SCHEMA_VERSION:
        _write_version(connection)


def _write_version(connection: Connection) -> None:
    where = store_meta.c.key == VERSION_KEY
    if connection.scalar(select(store_meta.c.key).where(where)) is None:
        connection.execute(store_meta.insert().values(key=VERSION_KEY, value=str(SCHEMA_VERSION)))
    else:
        connection.execute(store_meta.update().where(where).values(value=str(SCHEMA_VERSION)))
