"""Which re-checks go first, which are not needed, and how big the backlog may grow.

A flood of events (2,000 signed webhooks for 69 people, or a bulk profile update in Keycloak)
used to delay a real leaver's re-check by half a minute: every event waited its turn. Here:

* :func:`event_rank` puts events that can mean a departure (delete, disable, lockout, group
  leave) before the rest: a wave (``intake.waves``) is filled with the most urgent first;
* :class:`ReadLedger` remembers when each person was last re-read, so an event older than
  that read is already accounted for and its re-check is skipped;
* the wave queue bounds its backlog and asks for a full reconciliation when it overflows.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime, timedelta

from offboard.core.identities import IdentityId
from offboard.ports import IdentityEvent

DEPARTURE = 0
"""Can mean someone left: handled first."""
AMBIGUOUS = 1
"""A plain user update (a disable is one, and so is a profile edit)."""
ROUTINE = 2
"""Cannot mean a departure (a profile update, a group join, an enable)."""

_DEPARTURE_MARKS = (
    "DELETE",  # admin USER DELETE, GROUP_MEMBERSHIP DELETE (group leave), DELETE_ACCOUNT
    "LOCKOUT",  # USER_DISABLED_BY_*_LOCKOUT
    "enabled=false",  # a webhook whose representation shows the disable
)
_ROUTINE_MARKS = (
    "UPDATE_PROFILE",
    "GROUP_MEMBERSHIP:CREATE",
    "GROUP_MEMBERSHIP-CREATE",
    "enabled=true",
)


def event_rank(event: IdentityEvent) -> int:
    """:data:`DEPARTURE`, :data:`AMBIGUOUS` or :data:`ROUTINE`, from the event's kind."""
    kind = event.kind
    if any(mark in kind for mark in _DEPARTURE_MARKS):
        return DEPARTURE
    if any(mark in kind for mark in _ROUTINE_MARKS):
        return ROUTINE
    return AMBIGUOUS


def batch_rank(events: Iterable[IdentityEvent]) -> int:
    """A batch goes as early as its most urgent event."""
    return min((event_rank(event) for event in events), default=ROUTINE)


class ReadLedger:
    """When each person was last re-read from Keycloak (the start of that read).

    ``margin`` allows for Keycloak's clock running a little behind ours: an event is taken as
    covered only when it happened at least ``margin`` before the read started.
    """

    def __init__(self, margin: timedelta = timedelta(seconds=2), capacity: int = 200_000) -> None:
        self._read_at: OrderedDict[IdentityId, datetime] = OrderedDict()
        self._everyone_at: datetime | None = None
        self._margin = margin
        self._capacity = capacity
        self.skipped = 0
        """Batches skipped because a later read covered them (for tests and the status)."""

    def reread(self, identity_id: IdentityId, started_at: datetime) -> None:
        """Record a completed re-read of one person that started at ``started_at``."""
        known = self._read_at.get(identity_id)
        self._read_at[identity_id] = started_at if known is None else max(known, started_at)
        self._read_at.move_to_end(identity_id)
        if len(self._read_at) > self._capacity:
            self._read_at.popitem(last=False)

    def reread_everyone(self, started_at: datetime) -> None:
        """Record a complete full reconciliation that started at ``started_at``."""
        known = self._everyone_at
        self._everyone_at = started_at if known is None else max(known, started_at)

    def covered(self, identity_id: IdentityId, events: Iterable[IdentityEvent]) -> bool:
        """True when every event happened before the person's last completed re-read."""
        reads = [t for t in (self._read_at.get(identity_id), self._everyone_at) if t is not None]
        if not reads:
            return False
        read_at = max(reads)
        return all(event.occurred_at + self._margin <= read_at for event in events)
