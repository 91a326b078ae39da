"""An operator act handed to the leading daemon: a cut-off (or its lift) asked for by hand.

While a daemon leads, only it writes to Atlassian (the leader lease); a command-line
``cutoff now`` must still take effect at once, so it leaves the act in the store for the
leader, which carries it out at its next tick, from fresh reads, under its own lease and
the same guards, journaled with the operator's name and reason. Pure: the request and
its states.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class RequestKind(StrEnum):
    CUTOFF = "cutoff"
    CUTOFF_LIFT = "cutoff-lift"


class RequestState(StrEnum):
    QUEUED = "queued"
    TAKEN = "taken"
    """A leader is carrying it out."""
    DONE = "done"
    INCOMPLETE = "incomplete"
    """Carried out, but the action failed or its read-back did not show the wanted state."""
    BLOCKED = "blocked"
    """Not carried out: a guard tripped (lift it with ``--override-guard``), or the budget or
    an active hold kept the action back."""
    REFUSED = "refused"
    """Not carried out: a protected account, an account of a class left alone, nothing to do
    (the outcome says)."""
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    """The leader stopped while carrying it out; the journal settles the action itself."""

    @property
    def finished(self) -> bool:
        return self not in (RequestState.QUEUED, RequestState.TAKEN)


@dataclass(frozen=True, slots=True)
class OperatorRequest:
    """One act asked for by hand, and what became of it."""

    id: int
    kind: RequestKind
    person: str
    """As the operator named them: an email or a Keycloak user id."""
    actor: str
    reason: str
    overrides: tuple[str, ...]
    """Guards the operator lifted for this act (journaled like ``--override-guard``)."""
    requested_at: datetime
    state: RequestState = RequestState.QUEUED
    outcome: str = ""
    taken_at: datetime | None = None
    finished_at: datetime | None = None
