"""Bring a store's schema up to date on open, and refuse a store from a newer offboard."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection, Engine

from offboard.store.errors import StoreVersionError
from offboard.store.schema import SCHEMA_VERSION, store_meta

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_KEY = "schema_version"


def _alembic_config() -> Config:
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


def migrate(engine: Engine) -> None:
    """Upgrade to the newest schema this offboard knows; never downgrade."""
    config = _alembic_config()
    script = ScriptDirectory.from_config(config)
    with engine.begin() as connection:
        _refuse_newer(connection, script)
        current = MigrationContext.configure(connection).get_current_revision()
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
