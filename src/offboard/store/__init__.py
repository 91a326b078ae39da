"""The store: links, snapshot summaries, runs, plans, the journal, cursors and leases.

``open_store(path_or_url)`` gives a ``SqlStore`` implementing ``offboard.ports.Store`` on SQLite
(the default, one file) or PostgreSQL, migrated on open.
"""

from offboard.store.errors import StoreError, StoreUnreadableError, StoreVersionError
from offboard.store.paths import default_state_path
from offboard.store.schema import SCHEMA_VERSION
from offboard.store.sql_store import SqlStore, open_store

__all__ = [
    "SCHEMA_VERSION",
    "SqlStore",
    "StoreError",
    "StoreUnreadableError",
    "StoreVersionError",
    "default_state_path",
    "open_store",
]
