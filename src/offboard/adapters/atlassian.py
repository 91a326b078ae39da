"""Atlassian Cloud as one :class:`offboard.ports.AccountDirectory`.

Combines the org adapter (Organizations + User management, org key) and, when a directory
key is configured, the SCIM adapter. It lives outside both subpackages because they must
not import each other. One client-side rate limiter is shared by every call to the org
host so bulk runs stay under Atlassian's limit instead of living on 429s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx
from pydantic import SecretStr

from offboard.adapters.atlassian_org import BearerKey, OrgAdapter
from offboard.adapters.atlassian_org import self_check as org_self_check
from offboard.adapters.atlassian_org.assumptions import deep_checks
from offboard.adapters.circuit import CircuitBreaker
from offboard.adapters.http import (
    DEFAULT_MAX_PAUSE,
    BearerAuth,
    PauseHook,
    RateLimiter,
    RetryPolicy,
    build_client,
)
from offboard.core.accounts import Account, AccountId, ScimLink
from offboard.core.plan import Action
from offboard.core.policy import ActionKind
from offboard.core.snapshots import SnapshotKind, TargetSnapshot
from offboard.ports import CheckResult, OffboardError, OperationResult, PermanentError, Progress

if TYPE_CHECKING:  # scim2-models takes about half a second to import: only when configured
    from offboard.adapters.atlassian_scim import ScimAdapter

DEFAULT_BASE_URL = "https://api.atlassian.com"
_SCIM_KINDS = {ActionKind.SCIM_DEACTIVATE: False, ActionKind.SCIM_REACTIVATE: True}


class AtlassianDirectory:
    """The Atlassian side of offboard: snapshot, lookups, read-backs, actions, self-check."""

    def __init__(
        self,
        *,
        org_id: str,
        org_key: SecretStr | str,
        base_url: str = DEFAULT_BASE_URL,
        directory_id: str | None = None,
        scim_directory_id: str | None = None,
        scim_key: SecretStr | str | None = None,
        rate_per_second: float = 10.0,
        burst: int = 10,
        key_owner_account_id: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        max_pause: float = DEFAULT_MAX_PAUSE,
        on_pause: PauseHook | None = None,
        directory_read: str = "auto",
    ) -> None:
        self.directory_read = directory_read
        """How a full run reads the directory: ``auto``, ``walk`` or ``targeted``."""
        self.limiter = RateLimiter(rate_per_second, burst, max_pause=max_pause, on_pause=on_pause)
        self.breaker = CircuitBreaker("Atlassian")
        self._clients = [
            build_client(
                base_url, auth=BearerKey(org_key), transport=transport, breaker=self.breaker
            )
        ]
        self.org = OrgAdapter(
            self._clients[0],
            org_id,
            directory_id,
            limiter=self.limiter,
            retry=retry,
            key_owner_account_id=key_owner_account_id,
        )
        self.scim: ScimAdapter | None = None
        self._scim_ids: dict[str, str] = {}
        """Account id → the id of its SCIM record, from the last listing or lookup."""
        self._scim_listed = False
        if scim_directory_id and scim_key:
            from offboard.adapters.atlassian_scim import ScimAdapter

            scim_client = build_client(
                base_url, auth=BearerAuth(scim_key), transport=transport, breaker=self.breaker
            )
            self._clients.append(scim_client)
            self.scim = ScimAdapter(
                scim_client, scim_directory_id, limiter=self.limiter, retry=retry
            )

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()

    async def __aenter__(self) -> AtlassianDirectory:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def snapshot(self, *, progress: Progress | None = None) -> TargetSnapshot:
        """The org's accounts, each with its SCIM link when a directory key is configured."""
        snapshot = await self.org.snapshot(progress=progress)
        if self.scim is None:
            return snapshot
        try:
            links = await self.scim.links()
        except OffboardError as exc:
            problem = f"SCIM links unreadable, SCIM-linked accounts unknown: {exc}"
            return replace(snapshot, complete=False, problems=(*snapshot.problems, problem))
        self._remember(links)
        accounts = tuple(_with_link(a, links) for a in snapshot.accounts)
        return replace(snapshot, accounts=accounts)

    async def org_facts(self) -> TargetSnapshot:
        """The org without its accounts: verified domains (read now), key owner, ids."""
        taken_at = datetime.now(UTC)
        directory_id = await self.org.directory_id()
        domains = await self.org.verified_domains()
        return TargetSnapshot(
            accounts=(),
            taken_at=taken_at,
            complete=True,
            verified_domains=domains,
            key_owner_account_id=self.org.key_owner_account_id,
            kind=SnapshotKind.COVERING,
            org_id=self.org.org_id,
            directory_id=directory_id,
        )

    async def find_by_email(self, email: str) -> Sequence[Account]:
        accounts = await self.org.find_by_email(email)
        if self.scim is None:
            return accounts
        return [await self._with_scim_link(account) for account in accounts]

    async def find_by_emails(self, emails: list[str]) -> Sequence[Account]:
        """Accounts holding any of ``emails``, looked up a hundred addresses at a time."""
        accounts = await self.org.find_by_emails(emails)
        if self.scim is None:
            return accounts
        return [await self._with_scim_link(account) for account in accounts]

    async def read_account(self, account_id: AccountId) -> Account | None:
        account = await self.org.read_account(account_id)
        if account is None or self.scim is None:
            return account
        return await self._with_scim_link(account)

    async def read_accounts(self, account_ids: Sequence[AccountId]) -> dict[str, Account]:
        """Up to ten accounts in one Organizations search; each with its SCIM link when a
        directory key is configured (found as :meth:`read_account` finds it)."""
        accounts = await self.org.read_accounts(account_ids)
        if self.scim is None:
            return accounts
        return {aid: await self._with_scim_link(account) for aid, account in accounts.items()}

    async def _with_scim_link(self, account: Account) -> Account:
        """The account with the SCIM record that is linked to it, found for sure.

        A SCIM record is identified by its link to the account id (the id kept from the
        last listing), never by ``userName`` equal to the email: many identity providers
        set ``userName`` to something else. Before any listing, ``userName`` is a cheap
        first guess, each candidate checked by its account id, then one full listing."""
        assert self.scim is not None
        directory = self.scim.directory_id
        known = self._scim_ids.get(account.id)
        if known is not None:
            user = await self.scim.get_user(known)
            if user is not None and user.account_id == account.id:
                return replace(account, scim=_link(directory, user.id, user.active))
        elif self._scim_listed:
            return account  # not linked at the last full listing (each snapshot refreshes it)
        if account.email is not None:
            for user in await self.scim.find_by_user_name(account.email):
                if user.account_id == account.id:
                    self._scim_ids[account.id] = user.id
                    return replace(account, scim=_link(directory, user.id, user.active))
        links = await self.scim.links()
        self._remember(links)
        return _with_link(account, links)

    def _remember(self, links: dict[str, ScimLink]) -> None:
        self._scim_ids = {aid: link.scim_user_id for aid, link in links.items()}
        self._scim_listed = True

    async def execute(self, action: Action) -> OperationResult:
        """SCIM kinds go to the SCIM record linked to the account; the rest to the org."""
        if action.kind not in _SCIM_KINDS:
            return await self.org.execute(action)
        if self.scim is None:
            raise PermanentError(f"{action.kind} needs a SCIM directory key; none configured")
        account = await self.read_account(action.account_id)
        if account is None or account.scim is None:
            raise PermanentError(f"{action.account_id} has no SCIM record in this directory")
        return await self.scim.set_active(account.scim.scim_user_id, _SCIM_KINDS[action.kind])

    async def deep_check(self) -> Sequence[CheckResult]:
        """Read-only: what this tenant shows about each assumption the adapters make."""
        results = await deep_checks(self.org)
        if self.scim is not None:
            results.append(await self._scim_user_names())
        return results

    async def _scim_user_names(self) -> CheckResult:
        assert self.scim is not None
        try:
            users = await self.scim.users()
        except OffboardError as exc:
            return CheckResult("assume.scim_links", True, f"not checked: {exc}", warning=True)
        linked = [u for u in users if u.account_id]
        other = [u for u in linked if u.emails and u.user_name != u.emails[0].value]
        detail = (
            f"{len(linked)} of {len(users)} SCIM records carry an account link; {len(other)} "
            "have a userName other than their email (found by the link) [documented]"
        )
        return CheckResult("assume.scim_links", True, detail, warning=len(linked) < len(users))

    async def self_check(self) -> Sequence[CheckResult]:
        results = await org_self_check(self.org)
        if self.scim is not None:
            results.extend(await self.scim.self_check())
        return results


def _link(directory_id: str, scim_user_id: str, active: bool) -> ScimLink:
    return ScimLink(directory_id=directory_id, scim_user_id=scim_user_id, active=active)


def _with_link(account: Account, links: dict[str, ScimLink]) -> Account:
    link = links.get(account.id)
    return account if link is None else replace(account, scim=link)
