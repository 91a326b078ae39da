"""What the console reads and acts through: the daemon's store and vendors, as the CLI has them.

One :class:`ConsoleBackend` per operations listener. Without ``sides`` (no store wired, as
in some in-process tests) the console shows the daemon's own status and refuses acts.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from offboard.core.history import JournalQuery
from offboard.core.journal import JournalRecord
from offboard.executor.preflight import Preflight
from offboard.ports import IdentityEvent
from offboard.server.console.acting import Interlude, Leadership, acting
from offboard.server.console.blocked import BlockedReader, PlanReader
from offboard.server.console.names import NameBook
from offboard.service.operator import Sides
from offboard.service.operator_requests import RequestQueue

History = list[tuple[datetime, dict[str, object]]]
JournalSearch = Callable[[JournalQuery], list[JournalRecord]]


@dataclass
class ConsoleBackend:
    """The console's reach: read the journal, name people, act as the CLI acts."""

    sides: Sides | None = None
    lease_ttl: timedelta = timedelta(seconds=30)
    reconfirm_after: timedelta | None = None
    search: JournalSearch | None = None
    """The store's ``search_journal``: history survives restarts because it is read here."""
    licences: Callable[[int], History] | None = None
    nudge: Callable[[IdentityEvent], bool] | None = None
    """The daemon's ``submit``: asks a leading daemon to re-check a person now."""
    leadership: Leadership | None = None
    """This process's daemon (its lease and pass gate): acts write under its lease."""
    plans: PlanReader | None = None
    """The store's ``plan_document``: the blocked people of the last full plan."""
    names: NameBook | None = field(default=None)
    requests: RequestQueue | None = None
    """Where an act is handed to the leader when another replica leads (``cutoff``)."""
    _blocked: BlockedReader | None = field(default=None, repr=False)

    def acting(self, one_person: Interlude | None = None) -> AbstractAsyncContextManager[Preflight]:
        """The lease an act writes under (:func:`offboard.server.console.acting.acting`)."""
        assert self.sides is not None
        return acting(
            self.sides, self.leadership, self.lease_ttl, self.reconfirm_after,
            one_person=one_person,
        )  # fmt: skip

    def blocked_reader(self) -> BlockedReader:
        if self._blocked is None:
            store = self.sides.store if self.sides is not None else None
            self._blocked = BlockedReader(store, self.plans)
        return self._blocked

    def name_book(self) -> NameBook | None:
        if self.names is None and self.sides is not None:
            self.names = NameBook(self.sides.source, self.sides.clock)
        return self.names
