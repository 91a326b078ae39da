"""Build the real things (store, adapters, policy) from the settings; nothing else lives here."""

from __future__ import annotations

from pathlib import Path

from offboard.settings import Settings
from offboard.store import SqlStore, default_state_path, open_store


def store_location(settings: Settings | None, override: Path | None = None) -> Path | str:
    """``--store`` if given, else ``store.url``/``store.path``, else the default state file."""
    if override is not None:
        return override
    configured = settings.store.location() if settings is not None else None
    return configured if configured is not None else default_state_path()


def open_configured_store(settings: Settings | None, override: Path | None = None) -> SqlStore:
    """Open (and migrate) the store; StoreVersionError when a newer offboard wrote it."""
    return open_store(store_location(settings, override))
