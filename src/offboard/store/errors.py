"""Errors the store raises on purpose."""

from __future__ import annotations

from offboard.ports import OffboardError


class StoreVersionError(OffboardError):
    """The store was written by a newer offboard: refuse rather than migrate it down."""

    def __init__(self, found: int, supported: int) -> None:
        super().__init__(
            f"this state store has schema version {found}, written by a newer offboard; "
            f"this offboard supports up to version {supported}. Upgrade offboard to use it "
            "(the store is left untouched)."
        )
        self.found = found
        self.supported = supported


class StoreLocationError(OffboardError):
    """The store cannot be used where it was pointed: missing, unparsable, another
    application's database, or not openable as asked. The message never holds a password."""


class StoreMigrationPendingError(OffboardError):
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
