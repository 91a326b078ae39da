"""What applying a plan did: one frozen Outcome per action, and the report over them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from offboard.core.journal import Status
from offboard.core.plan import Action


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one action ended.

    ``status`` is ``succeeded``, ``failed`` or ``blocked`` for an action sent in this run;
    ``verified`` when an earlier run already did it (nothing was sent); ``skipped`` when a
    fresh read just before sending showed it is no longer wanted; after a crash,
    ``recover`` gives ``verified`` (it was done) or ``pending`` (still to do).
    """

    action: Action
    status: Status
    detail: str = ""
    http_status: int | None = None
    attempts: int = 0
    """Requests sent for this action in this run (0 when nothing was sent)."""
    readback: Status | None = None
    """``verified`` or ``mismatch`` after a success, ``failed`` when the read itself failed."""

    @property
    def key(self) -> str:
        return self.action.key


@dataclass(frozen=True, slots=True)
class ApplyReport:
    """The outcomes of one apply, with counts for summaries and exit codes."""

    run_id: str
    fingerprint: str
    outcomes: tuple[Outcome, ...]
    links_saved: int = 0
    overridden: tuple[str, ...] = ()
    """Guards that tripped and were overridden for this apply."""

    @property
    def counts(self) -> dict[str, int]:
        """Outcomes by status, plus ``verified``/``mismatch`` read-backs and ``links``."""
        counts = Counter(outcome.status.value for outcome in self.outcomes)
        for outcome in self.outcomes:
            if outcome.readback is not None:
                counts[f"readback_{outcome.readback.value}"] += 1
        counts["links"] = self.links_saved
        return dict(counts)

    @property
    def failed(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.status is Status.FAILED)

    @property
    def blocked(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.status is Status.BLOCKED)

    @property
    def held(self) -> tuple[Outcome, ...]:
        """Not sent: the budget was spent or a hold is active; they wait on the hold."""
        return tuple(o for o in self.outcomes if o.status is Status.HELD)

    @property
    def not_carried_out(self) -> bool:
        """Every action was skipped: a fresh read said it is no longer wanted, or an
        operator's act took it over. Nothing was sent."""
        return bool(self.outcomes) and all(o.status is Status.SKIPPED for o in self.outcomes)

    @property
    def all_done(self) -> bool:
        """Every action is in its wanted state, as read back (or as an earlier run left it)."""
        return all(
            o.status in (Status.VERIFIED, Status.SKIPPED)
            or (o.status is Status.SUCCEEDED and o.readback is Status.VERIFIED)
            for o in self.outcomes
        )
