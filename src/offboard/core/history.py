"""A bounded question to the journal: who, which rule, which outcome, one page at a time.

The console's history and its exports ask the store with this; the store answers with at
most ``limit`` records, newest first, older than ``before`` (keyset paging on the journal's
sequence number), so no page ever loads the whole journal.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_PAGE = 500
"""The most records one question returns; exports ask page after page."""
MAX_TERM = 200
"""A search term longer than this is cut: no address, id or name is longer."""


@dataclass(frozen=True, slots=True)
class JournalQuery:
    """Filters on the journal; empty strings mean "any"."""

    person: str = ""
    """Part of an email, or a whole Keycloak id or Atlassian account id."""
    rule: str = ""
    status: str = ""
    """The outcome (``verified``, ``failed``, ``held``...)."""
    phase: str = ""
    run_id: str = ""
    before: int | None = None
    """Only records with a sequence number below this (the next page)."""
    limit: int = 50

    def __post_init__(self) -> None:
        object.__setattr__(self, "limit", max(1, min(MAX_PAGE, self.limit)))
        object.__setattr__(self, "person", self.person.strip()[:MAX_TERM])
        for name in ("rule", "status", "phase", "run_id"):
            object.__setattr__(self, name, getattr(self, name).strip()[:MAX_TERM])

    def following(self, before: int) -> JournalQuery:
        """The same question for the page after the one ending at ``before``."""
        return JournalQuery(self.person, self.rule, self.status, self.phase, self.run_id,
                            before, self.limit)  # fmt: skip
