"""The org adapter engine: snapshots, lookups and read-backs; actions in :mod:`.acting`.

Every call goes through the shared limiter and the bounded retry of
:mod:`offboard.adapters.http`; only temporary failures are retried. Every answer is read by
:func:`offboard.adapters.answers.parse_answer`: a missing field is refused by name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial

import httpx
import structlog
from pydantic import ValidationError

from offboard.adapters.answers import parse_answer
from offboard.adapters.atlassian_org import acting
from offboard.adapters.atlassian_org import requests as rq
from offboard.adapters.atlassian_org.casting import merge_directories, to_account
from offboard.adapters.atlassian_org.errors import authentication_error, explain, refine_403
from offboard.adapters.atlassian_org.wire import (
    DirectoryPage,
    DirectoryUser,
    DirectoryUserDocument,
    DirectoryUserPage,
    DomainPage,
    Permission,
)
from offboard.adapters.http import RateLimiter, RetryPolicy, send, with_retries
from offboard.core.accounts import NOT_MYSELF, Account, AccountId
from offboard.core.plan import Action
from offboard.core.snapshots import TargetSnapshot
from offboard.ports import (
    AuthenticationError,
    NotFoundError,
    OffboardError,
    OperationResult,
    PermanentError,
    Progress,
)

MAX_EMPTY_PAGES = 3
EVERY_DIRECTORY = rq.EVERY_DIRECTORY
EMAILS_FALLBACK = 10
"""Addresses per email search once the tenant refused a hundred with a 400: Atlassian
documents no limit for ``emails``, and ten is what each of its documented id filters takes."""

log = structlog.get_logger("offboard.atlassian")


class OrgAdapter:
    """Organizations (v1/v2) and User management APIs for one org and its directory."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        org_id: str,
        directory_id: str | None = None,
        *,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        key_owner_account_id: str | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.org_id = org_id
        self._directory_id = directory_id
        self.limiter = limiter
        self.retry = retry or RetryPolicy()
        self.key_owner_account_id = key_owner_account_id
        self._now = now
        self._verified: frozenset[str] = frozenset()
        self._emails_per_search = rq.SEARCH_LIMIT

    async def call(self, build: Callable[[], httpx.Request], what: str) -> httpx.Response:
        """One request with rate limiting, error mapping and bounded retries."""

        async def attempt() -> httpx.Response:
            return await send(
                self.client, build(), what, limiter=self.limiter, refine_403=refine_403,
                explain=explain,
            )  # fmt: skip

        try:
            return await with_retries(attempt, self.retry)
        except AuthenticationError:
            raise authentication_error(what) from None

    async def directory_id(self) -> str:
        """The configured directory; else the org's single one; else ``-``, every directory.

        Orgs with several directories (Guard with several identity providers) hold an
        account in one or more of them. ``-`` reads each account once, with its membership
        across all of them (``active`` when active in any), and suspends or restores it in
        every directory that holds it: a leaver leaves them all."""
        if self._directory_id is None:
            found = await self.directories()
            if not found:
                raise PermanentError(f"org {self.org_id} has no directory")
            self._directory_id = found[0] if len(found) == 1 else EVERY_DIRECTORY
        return self._directory_id

    async def directories(self, account_id: str | None = None) -> list[str]:
        """The org's directory ids; with ``account_id``, those holding that account."""
        ids: list[str] = []
        cursor: str | None = None
        asked: set[str] = set()
        while True:
            what = "list directories" + (f" holding {account_id}" if account_id else "")
            response = await self.call(
                partial(rq.list_directories, self.client, self.org_id, cursor, account_id), what
            )
            page = parse_answer(DirectoryPage, response, what)
            ids.extend(d.directory_id for d in page.data)
            if (cursor := rq.follow(page.links.next, asked, what)) is None:
                return ids

    async def verified_domains(self) -> frozenset[str]:
        """Names (lower case) of the org's domains whose claim is verified."""
        names: set[str] = set()
        cursor: str | None = None
        asked: set[str] = set()
        while True:
            response = await self.call(
                partial(rq.list_domains, self.client, self.org_id, cursor), "list domains"
            )
            page = parse_answer(DomainPage, response, "list domains")
            names.update(
                d.attributes.name.lower()
                for d in page.data
                if d.attributes.claim.status == "verified"
            )
            if (cursor := rq.follow(page.links.next, asked, "list domains")) is None:
                self._verified = frozenset(names)
                return self._verified

    async def snapshot(self, *, progress: Progress | None = None) -> TargetSnapshot:
        """Every account of the directory; marked incomplete if any page failed."""
        taken_at = self._now()
        accounts: list[Account] = []
        domains: frozenset[str] = frozenset()
        problems: list[str] = []
        directory_id = ""
        try:
            directory_id = await self.directory_id()
            domains = await self.verified_domains()
            await self._walk_users(directory_id, domains, accounts, progress)
            accounts = merge_directories(accounts)
        except AuthenticationError:
            raise
        except (OffboardError, ValidationError, ValueError) as exc:
            # ValueError covers undecodable JSON; a malformed page is a failed page.
            problems.append(f"Atlassian read stopped after {len(accounts)} accounts: {exc}")
        return TargetSnapshot(
            accounts=tuple(accounts),
            taken_at=taken_at,
            complete=not problems,
            verified_domains=domains,
            key_owner_account_id=self.key_owner_account_id,
            problems=tuple(problems),
            org_id=self.org_id,
            directory_id=directory_id,
        )

    async def _walk_users(
        self,
        directory_id: str,
        domains: frozenset[str],
        into: list[Account],
        progress: Progress | None,
    ) -> None:
        cursor: str | None = None
        empty_pages = 0
        while True:
            what = f"search users (page {len(into) // rq.SEARCH_LIMIT + 1})"
            response = await self.call(
                partial(rq.search_users, self.client, self.org_id, directory_id, cursor=cursor),
                what,
            )
            page = parse_answer(DirectoryUserPage, response, what)
            into.extend(to_account(user, domains) for user in page.data)
            if progress is not None:
                progress(len(into), None)
            previous, cursor = cursor, rq.next_cursor(page.links.next)
            if cursor is None:
                return
            # A next link is a promise of more: an empty page with one is followed (a few
            # times), never taken as the end of the directory.
            empty_pages = 0 if page.data else empty_pages + 1
            if cursor == previous or empty_pages > MAX_EMPTY_PAGES:
                raise PermanentError(
                    f"the search repeated a cursor or stopped advancing ({cursor[:80]})"
                )

    async def find_by_email(self, email: str) -> list[Account]:
        """Accounts whose email is ``email``, as given or in lower case (``find_by_emails``)."""
        return await self.find_by_emails([email])

    async def read_accounts(
        self, account_ids: Sequence[AccountId], *, limit: int = rq.SEARCH_LIMIT
    ) -> dict[str, Account]:
        """Fresh reads of up to ``rq.ACCOUNT_IDS_MAX`` accounts in one search (every page of
        the answer). An id the answer lacks is simply absent: the caller reads it by id."""
        if not 0 < len(account_ids) <= rq.ACCOUNT_IDS_MAX:
            raise ValueError(f"a batch read takes 1 to {rq.ACCOUNT_IDS_MAX} account ids")
        directory_id = await self.directory_id()
        ids: list[str] = list(dict.fromkeys(account_ids))
        users: list[DirectoryUser] = []
        cursor: str | None = None
        while True:
            response = await self.call(
                partial(rq.search_users, self.client, self.org_id, directory_id,
                        cursor=cursor, limit=limit, filters={"accountIds": ids}),
                f"read {len(ids)} accounts",
            )  # fmt: skip
            page = parse_answer(DirectoryUserPage, response, f"read {len(ids)} accounts")
            users.extend(page.data)
            previous, cursor = cursor, rq.next_cursor(page.links.next)
            if cursor is None:
                break
            if cursor == previous or len(users) > len(ids) * 16:
                raise PermanentError(f"the batch read of {len(ids)} accounts did not end")
        wanted = set(ids)
        merged = merge_directories([to_account(user, self._verified) for user in users])
        return {account.id: account for account in merged if account.id in wanted}

    async def find_by_emails(self, emails: list[str]) -> list[Account]:
        """Accounts holding any of ``emails``, each as given or in lower case (``spellings``):
        one v2 ``emails`` search per 100 addresses (every page followed), the fresh read a
        wave of leavers needs at one request per hundred people instead of one each. A
        tenant that refuses a hundred (a 400) is asked ten at a time from then on."""
        directory_id = await self.directory_id()
        found: list[Account] = []
        asked = rq.spellings(emails)
        start = 0
        while start < len(asked):
            chunk = asked[start : start + self._emails_per_search]
            try:
                found.extend(await self._search_emails(directory_id, chunk))
            except PermanentError as exc:
                if exc.status != 400 or len(chunk) <= EMAILS_FALLBACK:
                    raise
                log.warning(
                    "the tenant refused an email search this long: asking fewer at a time",
                    refused=len(chunk), from_now_on=EMAILS_FALLBACK, answer=str(exc),
                )  # fmt: skip
                self._emails_per_search = EMAILS_FALLBACK
                continue
            start += len(chunk)
        return merge_directories(found)

    async def _search_emails(self, directory_id: str, chunk: list[str]) -> list[Account]:
        """The accounts of one ``emails`` search, every page followed."""
        found: list[Account] = []
        cursor: str | None = None
        while True:
            response = await self.call(
                partial(rq.search_users, self.client, self.org_id, directory_id,
                        cursor=cursor, emails=chunk),
                f"find accounts by email ({len(chunk)} addresses)",
            )  # fmt: skip
            page = parse_answer(DirectoryUserPage, response, "find accounts by email")
            _only_asked(page.data, chunk)
            found.extend(to_account(user, self._verified) for user in page.data)
            previous, cursor = cursor, rq.next_cursor(page.links.next)
            if cursor is None:
                return found
            if cursor == previous:
                raise PermanentError(f"the email search repeated a cursor ({cursor[:80]})")

    async def read_account(
        self, account_id: AccountId, *, directory_id: str | None = None
    ) -> Account | None:
        """A fresh read of one account and its membership (in ``directory_id``, else in the
        adapter's directory); None on 404."""
        directory = directory_id or await self.directory_id()
        what = f"read account {account_id}" + (f" in directory {directory}" if directory_id else "")
        try:
            response = await self.call(
                lambda: rq.user_details(self.client, self.org_id, directory, account_id), what
            )
        except NotFoundError:
            return None
        return to_account(parse_answer(DirectoryUserDocument, response, what).data, self._verified)

    async def permission(self, account_id: str, privilege: str) -> Permission:
        """One entry of ``GET /users/{id}/manage?privileges=...``."""
        response = await self.call(
            lambda: rq.permissions(self.client, account_id, privilege),
            f"check {privilege} on {account_id}",
        )
        entry = response.json().get(privilege)
        if entry is None:
            raise PermanentError(f"permissions map of {account_id} lacks {privilege}")
        permission = Permission.model_validate(entry)
        if permission.reason is not None and permission.reason.key == NOT_MYSELF:
            self.learn_key_owner(account_id)
        return permission

    def learn_key_owner(self, account_id: str) -> None:
        """Atlassian refused to act on ``account_id`` as the key's own account: protect it
        in every later snapshot (a configured owner is kept)."""
        if self.key_owner_account_id is None:
            self.key_owner_account_id = account_id

    async def execute(self, action: Action) -> OperationResult:
        """Carry out one lifecycle or membership action idempotently (:mod:`.acting`)."""
        return await acting.execute(self, action)


def _only_asked(users: list[DirectoryUser], asked: list[str]) -> None:
    """Refuse an email search that answered an account holding none of the addresses asked.

    The ``emails`` filter is newer than the 2025 Organizations spec; a tenant that does not
    apply it answers the whole directory, which must never be taken for the accounts of
    these people (their actions would reach others). An answer without an email (hidden)
    cannot be told apart and is kept: matching by email never pairs it with anyone."""
    wanted = {email.lower() for email in asked}
    for user in users:
        if user.email is not None and user.email.lower() not in wanted:
            raise PermanentError(
                f"the email search answered account {user.account_id}, which holds none of "
                f"the addresses asked: this tenant does not apply the v2 search's emails "
                f"filter, so no account was taken from the answer"
            )
