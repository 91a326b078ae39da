"""Behaviours of the real ``api.atlassian.com`` that a lenient emulator would hide.

Each switch is ON by default and follows the vendor (its source is in the table of
``docs/emulators/atlassian.md``); a test may turn one off to show what it guards against.
The control surface reads and changes them at ``/_emulator/realism``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from offboard_emulators.atlassian.model import Account

JSON_MEDIA_TYPES = ("application/json",)


@dataclass(slots=True)
class Realism:
    """The switches; every default is what Atlassian does."""

    require_json_content_type: bool = True
    """A POST without ``Content-Type: application/json`` gets 415 ``ADMIN-UAM-415-1``."""
    base64_cursors: bool = True
    """Cursors are standard base64 (``/``, ``+``, ``=``), and here always start with ``/``."""
    platform_roles_need_expand: bool = True
    """``platformRoles`` appears in a v2 search only when ``expand`` asks for it."""
    read_lag_seconds: float = 0.3
    """After a write, v2 reads show the account as it was for this long."""
    every_directory_per_membership: bool = True
    """Directory ``-`` lists an account held in several directories once per directory."""
    v1_users_retired: bool = True
    """The v1 org user endpoints answer as retired (after 2026-06-30)."""
    membership_actions_need_a_directory: bool = True
    """v2 ``suspend``, ``restore`` and remove take a directory id: only the reads document
    ``-`` (every directory); on a write it is an unknown directory (404)."""
    nulls_for_unset: bool = True
    """v2 users carry ``null`` for the unset fields their clients type as nullish
    (``deactivatedOn``, ``department``, ``organization``, ``location``, ``timeZone``),
    rather than leaving them out."""
    emails_filter_ignores_case: bool = True
    """The v2 search's ``emails`` filter matches an address whatever its case. Atlassian
    documents the filter as exact and says nothing of case: False makes case count too."""
    emails_filter_max: int | None = None
    """Addresses one v2 search's ``emails`` filter takes; more is a 400 ``ADMIN-400-24``.
    Atlassian documents no maxItems for it (the id filters take ten): None, no limit; a
    test sets one to hold offboard to a tenant that has it."""


def wants_json_but_lacks_it(method: str, content_type: str | None, realism: Realism) -> bool:
    """True when Atlassian would answer 415: a POST whose media type is not JSON."""
    if not realism.require_json_content_type or method != "POST":
        return False
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media not in JSON_MEDIA_TYPES


@dataclass(slots=True)
class _Stale:
    until: datetime
    account: Account
    memberships: dict[str, str]


@dataclass(slots=True)
class ReadLag:
    """Eventual consistency: the view of an account before its last writes, for a while."""

    clock: Callable[[], datetime]
    seconds: Callable[[], float]
    _stale: dict[str, _Stale] = field(default_factory=dict)

    def before_write(self, account: Account, memberships: dict[str, str]) -> None:
        """Remember how ``account`` looked; the first unexpired view is the one kept."""
        lag = self.seconds()
        if lag <= 0:
            return
        now = self.clock()
        entry = self._stale.get(account.account_id)
        until = now + timedelta(seconds=lag)
        if entry is not None and entry.until > now:
            entry.until = until
            return
        self._stale[account.account_id] = _Stale(until, replace(account), dict(memberships))

    def visible(self, account: Account) -> Account:
        """The account as a reader sees it now: the old copy while the lag lasts."""
        entry = self._stale.get(account.account_id)
        if entry is None:
            return account
        if entry.until <= self.clock():
            del self._stale[account.account_id]
            return account
        return entry.account

    def memberships_of(self, account: Account) -> dict[str, str] | None:
        """The old memberships when ``account`` is a stale copy handed out by :meth:`visible`."""
        entry = self._stale.get(account.account_id)
        return entry.memberships if entry is not None and entry.account is account else None

    def clear(self) -> None:
        self._stale.clear()
