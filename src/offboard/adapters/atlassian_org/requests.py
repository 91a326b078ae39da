"""Request builders for the Organizations (v1/v2) and User management APIs.

Each builder returns a fresh ``httpx.Request`` so that a retry never re-sends a consumed
one. Paths are relative to the client's base URL (``https://api.atlassian.com``), joined to it
before httpx sees them (:func:`offboard.adapters.http.absolute`): it then parses each URL once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from offboard.adapters.http import absolute
from offboard.ports import PermanentError

SEARCH_LIMIT = 100
"""The largest page the v2 directory user search accepts (the v2 list range is 1..100)."""
SNAPSHOT_EXPAND = ("platformRoles",)
EVERY_DIRECTORY = "-"
"""The v2 ``directoryId`` that widens a read to every directory of the org (not a write)."""
ACCOUNT_IDS_MAX = 10
"""The most ``accountIds`` one v2 user query takes (``accountIdsParam``: maxItems 10)."""


def spellings(emails: list[str]) -> list[str]:
    """Each address as given and in lower case, once each, in order. The v2 ``emails``
    filter is an exact match and Atlassian does not say whether case counts: an account
    that SAML sign-in made keeps the spelling the identity provider sent, another the lower
    case. Asking both finds it either way; callers match the answers without case."""
    return list(dict.fromkeys(form for email in emails for form in (email, email.lower())))


def _request(client: httpx.AsyncClient, method: str, path: str, **options: Any) -> httpx.Request:
    return client.build_request(method, absolute(client, path), **options)


def _seg(value: str) -> str:
    """One path segment, escaped: ids come from data and must not change the path."""
    return quote(value, safe=":|-_")


class UnfollowableLinkError(PermanentError):
    """A ``links.next`` that names no cursor: the walk cannot continue, so it is not whole."""


def next_cursor(link: str | None) -> str | None:
    """The cursor for the next page, None on the last page.

    v1 ``GET /orgs``, ``/users`` and ``/domains`` give a URL holding ``cursor``
    (``LinkPageModel``: "URL to fetch the Next Page", which may be relative); every other
    link is an opaque token, standard base64 that may start with ``/`` or hold ``+`` and
    ``=`` but never ``?``. So a link with ``://`` or ``?`` is read as a URL: a relative one
    sent back whole as a cursor would be refused, ending the walk. A URL without a cursor
    raises: a walk that cannot go on must never be taken for a complete one."""
    if not link:
        return None
    if "://" not in link and "?" not in link:
        return link
    values = parse_qs(urlsplit(link).query).get("cursor")
    if not values or not values[0]:
        raise UnfollowableLinkError(f"the next-page link holds no cursor: {link[:200]}")
    return values[0]


def follow(link: str | None, asked: set[str], what: str) -> str | None:
    """The cursor of ``link`` (:func:`next_cursor`), recorded in ``asked``. A cursor asked
    before raises: following it would walk the same pages forever, and a walk that never
    ends is no more complete than one that stops."""
    cursor = next_cursor(link)
    if cursor is not None:
        if cursor in asked:
            raise PermanentError(f"{what} repeated a cursor ({cursor[:80]})")
        asked.add(cursor)
    return cursor


def list_orgs(client: httpx.AsyncClient, cursor: str | None = None) -> httpx.Request:
    params = {"cursor": cursor} if cursor else None
    return _request(client, "GET", "/admin/v1/orgs", params=params)


def list_domains(client: httpx.AsyncClient, org_id: str, cursor: str | None) -> httpx.Request:
    params = {"cursor": cursor} if cursor else None
    return _request(client, "GET", f"/admin/v1/orgs/{_seg(org_id)}/domains", params=params)


def list_directories(
    client: httpx.AsyncClient, org_id: str, cursor: str | None, account_id: str | None = None
) -> httpx.Request:
    """The org's directories; with ``account_id``, only those the account is a member of."""
    params: dict[str, str | int] = {"limit": 100}
    if cursor:
        params["cursor"] = cursor
    elif account_id:
        params["accountId"] = account_id  # a cursor carries the filter (cursorParam)
    return _request(client, "GET", f"/admin/v2/orgs/{_seg(org_id)}/directories", params=params)


def _users(org_id: str, directory_id: str) -> str:
    return f"/admin/v2/orgs/{_seg(org_id)}/directories/{_seg(directory_id)}/users"


def search_users(
    client: httpx.AsyncClient,
    org_id: str,
    directory_id: str,
    *,
    cursor: str | None = None,
    emails: list[str] | None = None,
    limit: int = SEARCH_LIMIT,
    filters: Mapping[str, str | list[str]] | None = None,
) -> httpx.Request:
    body: dict[str, object] = {"limit": limit, "expand": list(SNAPSHOT_EXPAND), **(filters or {})}
    if directory_id != EVERY_DIRECTORY:
        # "By default, returns users in all your directories. To get users in a directory
        # only, use the directoryIds field" (jira.js getDirectoryUsers): the path alone may
        # not narrow the answer to the configured directory.
        body["directoryIds"] = [directory_id]
    if cursor:
        body["cursor"] = cursor
    if emails is not None:
        body["emails"] = emails
    return _request(client, "POST", f"{_users(org_id, directory_id)}/search", json=body)


def user_details(
    client: httpx.AsyncClient, org_id: str, directory_id: str, account_id: str
) -> httpx.Request:
    return _request(client, "GET", f"{_users(org_id, directory_id)}/{_seg(account_id)}")


EMPTY_JSON: dict[str, object] = {}
"""Sent where Atlassian documents no body: a POST without ``Content-Type: application/json``
is refused with 415 ``ADMIN-UAM-415-1`` (Organizations spec; jira.js sends JSON on every
write), and an empty JSON object is what a JSON parser accepts when it finds no fields."""


def membership_action(
    client: httpx.AsyncClient, org_id: str, directory_id: str, account_id: str, verb: str
) -> httpx.Request:
    """v2 ``suspend`` or ``restore`` (no documented body: an empty JSON object)."""
    path = f"{_users(org_id, directory_id)}/{_seg(account_id)}/{verb}"
    return _request(client, "POST", path, json=EMPTY_JSON)


def permissions(client: httpx.AsyncClient, account_id: str, privilege: str) -> httpx.Request:
    return _request(
        client, "GET", f"/users/{_seg(account_id)}/manage", params={"privileges": privilege}
    )


def lifecycle(
    client: httpx.AsyncClient, account_id: str, verb: str, message: str | None = None
) -> httpx.Request:
    """``disable`` (with the message shown to the user), ``enable`` or ``delete``."""
    path = f"/users/{_seg(account_id)}/manage/lifecycle/{verb}"
    body = {"message": message} if verb == "disable" and message else EMPTY_JSON
    return _request(client, "POST", path, json=body)
