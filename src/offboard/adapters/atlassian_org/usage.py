"""Use and billing, and users' API tokens: the reads the licence check needs.

* Every managed account's billing and per-product last use: ``GET /admin/v1/orgs/{orgId}/
  users`` (``access_billable``, ``product_access[].last_active``), walked by its URL cursor.
* One account's last use per product: ``GET /admin/v1/orgs/{orgId}/directory/users/
  {accountId}/last-active-dates``, for accounts the managed listing does not cover.
* A user's API tokens: ``GET /users/{account_id}/manage/api-tokens``, and revoking one:
  ``DELETE .../api-tokens/{tokenId}`` (a 404 means it is already gone).

All calls go through the org adapter's limiter and bounded retries.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from urllib.parse import quote

import httpx

from offboard.adapters.answers import parse_answer
from offboard.adapters.atlassian_org import requests as rq
from offboard.adapters.atlassian_org.client import MAX_EMPTY_PAGES, OrgAdapter
from offboard.adapters.atlassian_org.usage_wire import (
    ActivityPage,
    ApiTokenModel,
    OrgUser,
    OrgUserPage,
)
from offboard.core.licences import AccountUsage, ProductUse
from offboard.ports import ApiToken, NotFoundError, OperationResult, PermanentError, Progress


def _seg(value: str) -> str:
    return quote(value, safe=":|-_")


def _day(value: date | None) -> datetime | None:
    """A date of last use, as the end of that day in UTC (the vendor gives dates only)."""
    return None if value is None else datetime.combine(value, time.max, tzinfo=UTC)


def _usage(user: OrgUser) -> AccountUsage:
    return AccountUsage(
        account_id=user.account_id,
        email=user.email,
        billable=bool(user.access_billable) and user.account_status == "active",
        products=tuple(ProductUse(p.key, p.last_active) for p in user.product_access),
        last_active=user.last_active,
    )


class UsageReader:
    """The :class:`offboard.ports.UsageDirectory` of one org, over an :class:`OrgAdapter`."""

    def __init__(self, adapter: OrgAdapter) -> None:
        self.adapter = adapter
        self.client = adapter.client
        self.org_id = adapter.org_id

    def _get(self, path: str, params: dict[str, str] | None = None) -> Callable[[], httpx.Request]:
        return lambda: self.client.build_request("GET", path, params=params)

    async def usages(self, *, progress: Progress | None = None) -> list[AccountUsage]:
        """Billing and last use of every managed account of the org."""
        found: list[AccountUsage] = []
        cursor: str | None = None
        empty_pages = 0
        path = f"/admin/v1/orgs/{_seg(self.org_id)}/users"
        while True:
            params = {"cursor": cursor} if cursor else None
            response = await self.adapter.call(
                self._get(path, params), f"list managed accounts (page {len(found) // 100 + 1})"
            )
            page = parse_answer(OrgUserPage, response, "list managed accounts")
            found.extend(_usage(user) for user in page.data)
            if progress is not None:
                progress(len(found), page.meta.total)
            previous, cursor = cursor, rq.next_cursor(page.links.next)
            if cursor is None:
                return found
            # A next link promises more: an empty page holding one is followed (a few times),
            # as the v2 walk does, never taken for the end of the listing.
            empty_pages = 0 if page.data else empty_pages + 1
            if cursor == previous or empty_pages > MAX_EMPTY_PAGES:
                raise PermanentError(
                    f"the user listing repeated a cursor or stopped advancing ({cursor[:80]})"
                )

    async def last_active(
        self, account_id: str, *, email: str | None = None, billable: bool = True
    ) -> AccountUsage:
        """One account's last use per product (dates), for an account not listed above."""
        path = f"/admin/v1/orgs/{_seg(self.org_id)}/directory/users/{_seg(account_id)}"
        products: list[ProductUse] = []
        added: datetime | None = None
        cursor: str | None = None
        asked: set[str] = set()
        while True:
            params = {"cursor": cursor} if cursor else None
            response = await self.adapter.call(
                self._get(f"{path}/last-active-dates", params), f"last active dates {account_id}"
            )
            page = parse_answer(ActivityPage, response, f"last active dates {account_id}")
            products.extend(
                ProductUse(p.key, _day(p.last_active)) for p in page.data.product_access
            )
            added = added or _day(page.data.added_to_org)
            if (
                cursor := rq.follow(page.links.next, asked, f"last active dates {account_id}")
            ) is None:
                break
        return AccountUsage(account_id, email, billable, tuple(products), added_to_org=added)

    async def api_tokens(self, account_id: str) -> list[ApiToken]:
        """The account's API tokens (ids and labels; the secrets are never readable)."""
        response = await self.adapter.call(
            self._get(f"/users/{_seg(account_id)}/manage/api-tokens"), f"list tokens {account_id}"
        )
        return [
            ApiToken(t.id, t.label, t.created_at, t.last_access)
            for t in map(ApiTokenModel.model_validate, response.json())
        ]

    async def revoke_token(self, account_id: str, token_id: str) -> OperationResult:
        """Revoke one of the account's tokens; one already gone is an idempotent success."""
        path = f"/users/{_seg(account_id)}/manage/api-tokens/{_seg(token_id)}"
        try:
            response = await self.adapter.call(
                lambda: self.client.build_request("DELETE", path), f"revoke token {token_id}"
            )
        except NotFoundError:
            return OperationResult(404, changed=False, detail=f"token {token_id} already gone")
        return OperationResult(response.status_code, changed=True, detail=f"revoked {token_id}")
