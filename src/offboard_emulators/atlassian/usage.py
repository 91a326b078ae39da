"""Use and billing data of the emulated tenant: user API tokens and varied activity.

The vendor keeps, per account, the products it can use with the last day it used each,
whether it is billable, and the API tokens the person created (reference §1.2, §1.6 and
landscape-2026 "API tokens of users"). Seeding here gives a tenant the spread a real one
has: many products, accounts never active, recent and old activity, some tokens.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from offboard_emulators.atlassian.model import ProductAccess
from offboard_emulators.atlassian.state import AtlassianState, NotFoundError

PRODUCTS = {
    "jira-software": "Jira Software",
    "jira-service-desk": "Jira Service Management",
    "jira-core": "Jira Work Management",
    "confluence": "Confluence",
    "bitbucket": "Bitbucket",
    "opsgenie": "Opsgenie",
    "statuspage": "Statuspage",
    "trello": "Trello",
}
SITE = "https://emulated.atlassian.net"


@dataclass(slots=True)
class ApiToken:
    """One user API token (``ApiTokenModel``); the secret itself is never kept here."""

    token_id: str
    label: str
    created_at: datetime
    last_access: datetime | None = None


def tokens_of(state: AtlassianState, account_id: str) -> list[ApiToken]:
    """The account's tokens (an empty list when it has none)."""
    return state.api_tokens.get(account_id, [])


def add_token(
    state: AtlassianState,
    account_id: str,
    label: str,
    *,
    token_id: str | None = None,
    last_access: datetime | None = None,
) -> ApiToken:
    """Give ``account_id`` a new token; ids are unique across the tenant."""
    with state.lock:
        state.account(account_id)
        held = state.api_tokens.setdefault(account_id, [])
        number = sum(map(len, state.api_tokens.values())) + 1
        token = ApiToken(token_id or f"tok-{number:08d}", label, state.clock(), last_access)
        held.append(token)
        return token


def revoke_token(state: AtlassianState, account_id: str, token_id: str) -> None:
    """Delete one of the account's tokens; another account's token id is not found."""
    with state.lock:
        held = state.api_tokens.get(account_id, [])
        for index, token in enumerate(held):
            if token.token_id == token_id:
                del held[index]
                return
    raise NotFoundError(f"token {token_id}")


def _spread(series: int, number: int) -> tuple[list[str], int | None]:
    """Deterministic products and days since last use for the ``number``-th account.

    About one in eight never used anything; the rest spread from today to two years ago.
    """
    mix = zlib.crc32(f"{series}:{number}".encode())
    keys = list(PRODUCTS)
    chosen = [keys[0]] + [k for i, k in enumerate(keys[1:]) if (mix >> (i * 3)) % 4 == 0]
    if mix % 8 == 0:
        return chosen, None
    return chosen, (mix >> 8) % 730 if mix % 3 else (mix >> 8) % 45


def vary_activity(state: AtlassianState, account_ids: list[str], *, tokens_every: int = 0) -> None:
    """Give each account its own products and last-active dates; every ``tokens_every``-th
    account (0: none) gets one or two API tokens."""
    now = state.clock()
    with state.lock:
        for number, account_id in enumerate(account_ids):
            account = state.account(account_id)
            keys, days = _spread(zlib.crc32(account.org_id.encode()), number)
            account.product_access = [
                ProductAccess(key, PRODUCTS[key], SITE, _used(now, days, offset))
                for offset, key in enumerate(keys)
            ]
            account.last_active = _used(now, days, 0)
            if tokens_every and number % tokens_every == 0:
                for index in range(1 + number % 2):
                    add_token(state, account_id, f"automation {index + 1}", last_access=now)
        state.changed()


def _used(now: datetime, days: int | None, offset: int) -> datetime | None:
    """When a product was last used: ``days`` ago, other products a few days earlier."""
    if days is None:
        return None
    return now - timedelta(days=days + offset * 3, hours=offset + 1)


def last_active_dates(
    state: AtlassianState, account_id: str, start: int = 0, size: int | None = None
) -> tuple[dict[str, object], bool]:
    """One page of the ``UserProductAccessModel`` of an account (used products only, dates
    as days), from product ``start``, and whether more products follow it."""
    account = state.account(account_id)
    used = [
        {"id": f"{p.key}/{p.url}", "key": p.key, "last_active": p.last_active.date().isoformat()}
        for p in account.product_access
        if p.last_active is not None
    ]
    end = len(used) if size is None else start + size
    added = account.added_to_org.date().isoformat() if account.added_to_org else None
    return {"product_access": used[start:end], "added_to_org": added}, end < len(used)
