"""One thing that needs a human, as the attention page and ``/status.json`` show it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from offboard.core.holds import Hold


def moment(at: datetime) -> str:
    """A time as people read it on the page (UTC, to the second); JSON keeps ISO 8601."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True, slots=True)
class Person:
    identity_id: str | None
    account_id: str | None
    email: str | None
    name: str = ""


@dataclass(frozen=True, slots=True)
class Attention:
    """One thing a human should look at."""

    kind: str
    """``hold``, ``blocked-plan``, ``blocked-person``, ``failed-action``, ``orphans``,
    ``warning``, ``event-cursor``, ``store``, ``not-ready``, ``source-anomaly``."""
    title: str
    detail: str = ""
    todo: str = ""
    people: tuple[Person, ...] = ()
    hold: Hold | None = None
    rule: str = ""
    seq: int | None = None
    """The journal record of a failed action."""
    extra: dict[str, str] = field(default_factory=dict)
    more: int = 0
    """People concerned beyond those in ``people`` (a hold over thousands names the first)."""
    more_where: str = ""
    """The command that lists them all."""

    def document(self) -> dict[str, object]:
        """The JSON twin of the item (``/status.json``)."""
        found: dict[str, object] = {"kind": self.kind, "title": self.title,
                                    "detail": self.detail, "what_to_do": self.todo}  # fmt: skip
        if self.people:
            found["people"] = [
                {"name": p.name, "email": p.email, "identity_id": p.identity_id,
                 "account_id": p.account_id} for p in self.people
            ]  # fmt: skip
        if self.more:
            found["people_more"] = self.more
        if self.hold is not None:
            found["hold"] = {"id": self.hold.id, "category": self.hold.category,
                             "guards": list(self.hold.guards),
                             "since": self.hold.since.isoformat(),
                             "waiting": len(self.hold.waiting)}  # fmt: skip
        if self.rule:
            found["rule"] = self.rule
        if self.seq is not None:
            found["journal_seq"] = self.seq
        return found
