"""Credential expiry: which warning is due, and what it says. Pure (dates in, words out).

Atlassian's organization API keys and SCIM directory keys expire within a year
(landscape-2026); an expired key makes every call fail with 401. offboard warns 30, 14 and
7 days ahead, naming the credential and how to renew it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

WARN_DAYS = (30, 14, 7)
"""Days before expiry at which the warning steps up."""

RENEW = {
    "atlassian.api_key": (
        "create a new org API key without scopes in admin.atlassian.com → Settings → "
        "API keys, put it in atlassian.api_key_file and update atlassian.api_key_expires_on"
    ),
    "atlassian.scim_api_key": (
        "regenerate the SCIM directory key in admin.atlassian.com → Security → Identity "
        "providers → the directory, put it in atlassian.scim_api_key_file and update "
        "atlassian.scim_api_key_expires_on"
    ),
}


@dataclass(frozen=True, slots=True)
class ExpiryNotice:
    """One credential close to (or past) its expiry."""

    credential: str
    expires_on: date
    days_left: int
    threshold: int
    """The warning step reached: 30, 14, 7, or 0 once expired."""

    @property
    def expired(self) -> bool:
        return self.days_left <= 0

    @property
    def message(self) -> str:
        if self.expired:
            return f"{self.credential} expired on {self.expires_on.isoformat()}"
        return (
            f"{self.credential} expires on {self.expires_on.isoformat()} (in {self.days_left} days)"
        )

    @property
    def how_to_renew(self) -> str:
        return RENEW.get(self.credential, "renew it where it was created")


def expiry_notice(credential: str, expires_on: date | None, today: date) -> ExpiryNotice | None:
    """The notice due today for ``credential``, or None when none is (or no date is known)."""
    if expires_on is None:
        return None
    days_left = (expires_on - today).days
    if days_left <= 0:
        return ExpiryNotice(credential, expires_on, days_left, 0)
    due = [step for step in WARN_DAYS if days_left <= step]
    return ExpiryNotice(credential, expires_on, days_left, min(due)) if due else None
