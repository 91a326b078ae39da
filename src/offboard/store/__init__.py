"""The store: links, snapshot summaries, runs, plans, the journal, cursors and leases.

``open_store(path_or_url)`` gives a ``SqlStore`` implementing ``offboard.ports.Store`` on SQLite
(the default, one file) or PostgreSQL, migrated on open (or, ``read_only``, only read).
"""

from offboard.store.errors import (
    StoreError,
    StoreLocationError,
    StoreMigrationPendingError,
    StoreUnreadableError,
    StoreVersionError,
)
from offboard.store.paths import default_state_path, new_sqlite_file, shown
from offboard.store.schema import SCHEMA_VERSION
from offboard.store.sql_store import SqlStore, open_store, store_engine

__all__ = [
    "SCHEMA_VERSION",
    "SqlStore",
    "StoreError",
    "StoreLocationError",
    "StoreMigrationPendingError",
    "StoreUnreadableError",
    "StoreVersionError",
    "default_state_path",
    "new_sqlite_file",
    "open_store",
    "shown",
    "store_engine",
]
