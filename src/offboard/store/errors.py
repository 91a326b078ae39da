"""Errors the store raises on purpose."""

from __future__ import annotations

from offboard.ports import OffboardError


class StoreError(OffboardError):
    """The state store cannot be used as it is; the message says which store and what to do."""


class StoreVersionError(StoreError):
    """The store was written by a newer offboard: refuse rather than migrate it down."""

    def __init__(self, found: int, supported: int, revision: str | None = None) -> None:
        if revision is not None:
            # The version number may look supported while the migration revision is not:
            # say what is actually unknown instead of "version 2 ... supports up to 2".
            what = f"is at migration revision {revision!r}, which this offboard does not know"
        else:
            what = f"has schema version {found}; this offboard supports up to {supported}"
        super().__init__(
            f"this state store {what}: a newer offboard wrote it. Upgrade offboard to use it "
            "(the store is left untouched)."
        )
        self.found = found
        self.supported = supported
        self.revision = revision


class StoreUnreadableError(StoreError):
    """The store's file is not a database offboard can read (damaged, or another file)."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(
            f"the state store {where} cannot be read ({problem}). Restore it from a backup, "
            "or move it aside (e.g. `mv` it to a .broken name) so that offboard starts a new "
            "one: links are then re-made by matching, and the old journal stays in the moved "
            "file for audit."
        )
        self.where = where


class StoreLocationError(StoreError):
    """The store cannot be used where it was pointed: missing, unparsable, another
    application's database, or not openable as asked. The message never holds a password."""


class StoreMigrationPendingError(StoreError):
    """The store is from an older offboard and upgrading it on open was not asked for."""

    def __init__(self, found: int | None, wanted: int) -> None:
        super().__init__(
            f"this state store has schema version {found}; this offboard needs version "
            f"{wanted}. Back it up (offboard store backup FILE), then run `offboard store "
            "migrate`, or set store.auto_migrate = true to upgrade on start "
            "(the store is left untouched)."
        )
        self.found = found
        self.wanted = wanted
