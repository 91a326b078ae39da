"""Organizations API v2 directories and directory users (reference §1.4, §1.5).

Errors use the generic ``Errors`` body for every status, as the 2025 spec documents.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from offboard_emulators.atlassian import errors, lifecycle, views
from offboard_emulators.atlassian.http_helpers import (
    BodyError,
    bounded_int,
    json_body,
    query_list,
)
from offboard_emulators.atlassian.model import ApiKey, Directory, Org
from offboard_emulators.atlassian.paging import BadCursorError, decode_cursor, encode_cursor, scan
from offboard_emulators.atlassian.realism import wants_json_but_lacks_it
from offboard_emulators.atlassian.state import (
    AtlassianState,
    AuthError,
    ConflictError,
    NotFoundError,
)

Handler = Callable[[Request, ApiKey, Org], Awaitable[Response]]
LIST_KEYS = (
    "accountIds", "directoryIds", "status", "accountStatus", "membershipStatus", "claimStatus"
)  # fmt: skip
LIST_KEYS_MORE = ("emailDomains", "searchTerm", "roleIds", "emails", "expand")


def v2_endpoint(
    state: AtlassianState, handler: Handler
) -> Callable[[Request], Awaitable[Response]]:
    """Authenticate, resolve the org (a key of another org sees 404) and map failures."""

    async def endpoint(request: Request) -> Response:
        try:
            key = state.authenticate(request.headers.get("authorization"), "org")
            org = state.org(request.path_params["orgId"])
            if key.org_id != org.org_id:
                raise NotFoundError(f"org {org.org_id}")
            directory_id = request.path_params.get("directoryId")
            if directory_id not in (None, "-"):
                state.directory(org, directory_id)
            if wants_json_but_lacks_it(
                request.method, request.headers.get("content-type"), state.realism
            ):
                return errors.unsupported_media_type()
            return await handler(request, key, org)
        except AuthError as error:
            return errors.application_error(401, "ADMIN-401-1", error.message)
        except BadCursorError:
            return errors.application_error(400, "ADMIN-400-1", "Invalid page cursor")
        except (BodyError, ValueError) as error:
            return errors.application_error(400, "ADMIN-400-24", f"Invalid request: {error}")
        except ConflictError as conflict:
            return errors.application_error(409, "ADMIN-409-1", conflict.message)
        except NotFoundError as error:
            text = str(error)
            code = "ADMIN-404-8" if text.startswith("account") else "ADMIN-404-2"
            return errors.application_error(404, code, f"Not found: {text}")

    return endpoint


def _filters_from_query(request: Request) -> dict[str, Any]:
    filters: dict[str, Any] = {}
    for name in (*LIST_KEYS, "emailDomains", "roleIds"):
        values = query_list(request, name)
        if values:
            filters[name] = values
    if request.query_params.get("searchTerm"):
        filters["searchTerm"] = request.query_params["searchTerm"]
    if "claimStatus" in filters:  # one value (``claimStatusParam``), repeated or not
        claim = filters["claimStatus"]
        filters["claimStatus"] = claim[0] if len(claim) == 1 else claim
    _check_filters(filters)
    return filters


ACCOUNT_IDS_MAX = 10
"""``accountIdsParam``: maxItems 10 (the search body takes the same filters, reference §1.5)."""
ARRAY_MAX = {"accountIds": ACCOUNT_IDS_MAX, "directoryIds": 10, "emailDomains": 10, "roleIds": 10}
"""maxItems of the id filters (``accountIdsParam``, ``directoryIdsParam``, ...)."""
ROLE_IDS = frozenset({
    "atlassian/user", "atlassian/admin", "atlassian/guest", "atlassian/customer",
    "atlassian/user-access-admin", "atlassian/contributor", "atlassian/basic",
    "atlassian/stakeholder", "atlassian/org-admin", "atlassian/site-admin",
    "atlassian/ai-access",
})  # fmt: skip
VALUES = {
    "status": frozenset({"active", "suspended", "not_invited", "deactivated", "for_deletion"}),
    "accountStatus": frozenset({"active", "inactive", "closed"}),
    "membershipStatus": frozenset({"active", "suspended", "no_membership"}),
    "claimStatus": frozenset({"managed", "unmanaged"}),
    "roleIds": ROLE_IDS,
    "expand": frozenset({"platformRoles", "counts.resources", "productAccess", "groups"}),
}
"""The closed sets of the filters (the 2025 spec's parameters; jira.js's search request adds
``for_deletion`` and ``atlassian/ai-access``). Atlassian answers 400 to another value, where
matching nothing would hide a misspelt filter behind an empty page."""
SINGLE = frozenset({"claimStatus", "searchTerm", "cursor"})
"""Filters that are one string, not an array (``claimStatusParam``: ``type: string``)."""


def _check_filters(filters: dict[str, Any]) -> None:
    """Each filter has its documented type, size and values; ``ValueError`` says which not."""
    for name, value in filters.items():
        items = [value] if name in SINGLE else value
        if name in SINGLE and not isinstance(value, str):
            raise ValueError(f"{name} must be a string")
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ValueError(f"{name} must be an array of strings")
        if not items and name != "emails":
            raise ValueError(f"{name} must not be empty")
        if len(items) > ARRAY_MAX.get(name, len(items)):
            raise ValueError(f"{name} holds 1 to {ARRAY_MAX[name]} ids")
        unknown = sorted(set(items) - VALUES.get(name, set(items)))
        if unknown:
            raise ValueError(f"{name}: unknown value {unknown[0]!r}")


def _as_set(value: object) -> set[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {str(v) for v in value}
    raise ValueError("filter values must be strings or lists of strings")


def _predicate(
    state: AtlassianState, org: Org, directory_id: str, filters: dict[str, Any]
) -> Callable[[str], bool]:
    """The v2 filters as one test on an account id."""
    wanted = {name: _as_set(filters.get(name)) for name in (*LIST_KEYS, "emailDomains", "roleIds")}
    term = str(filters.get("searchTerm") or "").lower()
    members_only = directory_id != "-"

    def keep(entry: str) -> bool:
        held_in, account_id = split_entry(entry, directory_id)
        account = state.account(account_id)
        if account.org_id != org.org_id:
            return False
        membership = state.membership_status(account, held_in)
        if members_only and membership == "no_membership":
            return False
        holding = {held_in} if held_in != "-" else state.directories_holding(org, account_id)
        facts = {
            "accountIds": {account_id},
            "directoryIds": holding,
            "status": {state.composite_status(account, held_in)},
            "accountStatus": {account.account_status},
            "membershipStatus": {membership},
            "claimStatus": {state.claim_status(account)},
            "emailDomains": {account.email_domain},
            "roleIds": set(account.platform_roles),
        }
        if any(want is not None and not (want & facts[name]) for name, want in wanted.items()):
            return False
        text = f"{account.nickname} {account.email} {account.name}".lower()
        return not term or term in text

    return keep


def _source_order(
    state: AtlassianState, org: Org, directory_id: str, filters: dict[str, Any]
) -> Sequence[str]:
    """The ids to scan: exact emails via the index, else the directory or org order."""
    if filters.get("emails") is not None:
        addresses = [str(e) for e in filters["emails"]]
        found = (state.by_email.get(e.lower()) for e in addresses)
        # Each account once, however many spellings of its address were asked.
        ids = list(dict.fromkeys(account_id for account_id in found if account_id is not None))
        if not state.realism.emails_filter_ignores_case:
            exact = set(addresses)
            ids = [i for i in ids if state.accounts[i].email in exact]
        return per_membership(state, org, ids) if directory_id == "-" else ids
    if filters.get("accountIds") is not None:
        # The ids themselves, as the emails are (unknown ids match nothing), not a full scan.
        asked = dict.fromkeys(str(a) for a in filters["accountIds"])
        ids = [account_id for account_id in asked if account_id in state.accounts]
        return per_membership(state, org, ids) if directory_id == "-" else ids
    if directory_id == "-":
        if not state.realism.every_directory_per_membership:
            return org.account_order
        return state.cached_order(("dash", org.org_id), lambda: per_membership(state, org))
    return org.directories[directory_id].order


SEPARATOR = "\x1f"


def split_entry(entry: str, directory_id: str) -> tuple[str, str]:
    """(directory, account id) of one listing entry: ``dir<US>account`` or an account id."""
    held_in, _, account_id = entry.rpartition(SEPARATOR)
    return held_in or directory_id, account_id


def per_membership(state: AtlassianState, org: Org, ids: Sequence[str] | None = None) -> list[str]:
    """Directory ``-`` lists an account once per directory holding it, each entry with that
    directory's membership (an account held nowhere appears once)."""
    entries: list[str] = []
    for account_id in org.account_order if ids is None else ids:
        held = [d.directory_id for d in org.directories.values() if account_id in d.memberships]
        entries.extend(f"{d}{SEPARATOR}{account_id}" for d in held)
        if not held:
            entries.append(account_id)
    return entries


def _page(
    state: AtlassianState,
    org: Org,
    request: Request,
    filters: dict[str, Any],
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    directory_id = request.path_params["directoryId"]
    scope = f"v2users:{org.org_id}:{directory_id}"
    start = 0
    if cursor:
        start, filters = decode_cursor(cursor, scope)
    expand = frozenset(filters.get("expand") or ())
    with state.lock:
        order = _source_order(state, org, directory_id, filters)
        page = scan(order, start, limit, _predicate(state, org, directory_id, filters))
        data = []
        for entry in page.ids:
            held_in, account_id = split_entry(entry, directory_id)
            seen = state.lag.visible(state.account(account_id))
            data.append(views.v2_user(state, seen, held_in, expand))
    standard = state.realism.base64_cursors
    links = {"self": encode_cursor(start, scope, filters, standard=standard)}
    if page.next_position is not None:
        links["next"] = encode_cursor(page.next_position, scope, filters, standard=standard)
    return {"data": data, "links": links}


def _directory_filters(request: Request) -> dict[str, Any]:
    """The directory listing's filters from the query (only those given)."""
    filters: dict[str, Any] = {}
    if (account_id := request.query_params.get("accountId")) is not None:
        filters["accountId"] = account_id
    if term := request.query_params.get("searchTerm"):
        filters["searchTerm"] = term
    if only := query_list(request, "directoryIds"):
        filters["directoryIds"] = only
    return filters


def _directories_matching(org: Org, filters: dict[str, Any]) -> list[Directory]:
    """The org's directories that pass ``filters``, in their stable order."""
    account_id = filters.get("accountId")
    term = str(filters.get("searchTerm") or "").lower()
    only = set(filters.get("directoryIds") or ())
    return [
        d
        for d in org.directories.values()
        if (not only or d.directory_id in only)
        and term in d.name.lower()
        and (account_id is None or account_id in d.memberships)
    ]


def routes(state: AtlassianState) -> list[Route]:
    """The v2 routes bound to ``state``."""

    async def list_directories(request: Request, key: ApiKey, org: Org) -> Response:
        limit = bounded_int(request.query_params.get("limit"), 20, 1, 100)
        scope = f"v2dirs:{org.org_id}"
        cursor = request.query_params.get("cursor")
        # ``cursorParam``: "If present, all other parameters are discarded". The filters
        # ride in the cursor, so page 2 of an ``accountId`` listing stays that listing.
        start, filters = (
            decode_cursor(cursor, scope) if cursor else (0, _directory_filters(request))
        )
        chosen = _directories_matching(org, filters)
        window = chosen[start : start + limit]
        standard = state.realism.base64_cursors
        links = {"self": encode_cursor(start, scope, filters, standard=standard)}
        if start + limit < len(chosen):
            links["next"] = encode_cursor(start + limit, scope, filters, standard=standard)
        data = [{"directoryId": d.directory_id, "name": d.name} for d in window]
        return JSONResponse({"data": data, "links": links})

    async def list_users(request: Request, key: ApiKey, org: Org) -> Response:
        limit = bounded_int(request.query_params.get("limit"), 20, 1, 100)
        cursor = request.query_params.get("cursor")
        filters = {} if cursor else _filters_from_query(request)
        return JSONResponse(_page(state, org, request, filters, cursor, limit))

    async def search_users(request: Request, key: ApiKey, org: Org) -> Response:
        body = await json_body(request)
        if body.get("searchTerm") and body.get("emails") is not None:
            raise BodyError("searchTerm and emails cannot be combined")
        limit = bounded_int(body.get("limit"), 50, 1, 100)
        filters = {k: body[k] for k in (*LIST_KEYS, *LIST_KEYS_MORE) if k in body}
        if not body.get("cursor"):
            _check_filters(filters)
            most = state.realism.emails_filter_max
            if most is not None and len(filters.get("emails") or ()) > most:
                raise ValueError(f"emails holds 1 to {most} addresses")
        return JSONResponse(_page(state, org, request, filters, body.get("cursor"), limit))

    async def count_users(request: Request, key: ApiKey, org: Org) -> Response:
        directory_id = request.path_params["directoryId"]
        filters = _filters_from_query(request)
        keep = _predicate(state, org, directory_id, filters)
        order = _source_order(state, org, directory_id, filters)
        cache_key = ("v2count", org.org_id, directory_id, repr(sorted(filters.items())))
        with state.lock:
            total = state.count_cached(cache_key, lambda: sum(map(keep, order)))
        return JSONResponse({"count": total})

    async def get_user(request: Request, key: ApiKey, org: Org) -> Response:
        directory_id = request.path_params["directoryId"]
        account_id = request.path_params["accountId"]
        account = state.account(account_id)
        if not _predicate(state, org, directory_id, {})(account_id):
            raise NotFoundError(f"account {account_id}")
        expand = frozenset({"platformRoles", "productAccess", "groups", "counts.resources"})
        with state.lock:
            seen = state.lag.visible(account)
            return JSONResponse({"data": views.v2_user(state, seen, directory_id, expand)})

    def membership_action(status: str | None) -> Handler:
        async def act(request: Request, key: ApiKey, org: Org) -> Response:
            params = request.path_params
            if params["directoryId"] == "-" and state.realism.membership_actions_need_a_directory:
                raise NotFoundError("directory -: suspend, restore and remove need its id")
            lifecycle.set_membership(
                state, org.org_id, params["directoryId"], params["accountId"], status
            )
            return Response(status_code=204)

        return act

    base = "/admin/v2/orgs/{orgId}/directories"
    users = f"{base}/{{directoryId}}/users"
    table: list[tuple[str, Handler, str]] = [
        (base, list_directories, "GET"),
        (users, list_users, "GET"),
        (f"{users}/search", search_users, "POST"),
        (f"{users}/count", count_users, "GET"),
        (f"{users}/{{accountId}}", get_user, "GET"),
        (f"{users}/{{accountId}}/suspend", membership_action("suspended"), "POST"),
        (f"{users}/{{accountId}}/restore", membership_action("active"), "POST"),
        (f"{users}/{{accountId}}", membership_action(None), "DELETE"),
    ]
    return [Route(path, v2_endpoint(state, h), methods=[m]) for path, h, m in table]
