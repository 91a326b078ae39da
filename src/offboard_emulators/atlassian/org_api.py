"""Organizations API v1 (reference §1.1-1.3, §1.6, §1.7): orgs, users, search, domains,
and the v1 directory suspend/restore/remove calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from offboard_emulators.atlassian import errors, lifecycle, views
from offboard_emulators.atlassian.http_helpers import BodyError, base_url, bounded_int, json_body
from offboard_emulators.atlassian.model import ApiKey, Org
from offboard_emulators.atlassian.paging import (
    BadCursorError,
    Page,
    decode_cursor,
    encode_cursor,
    scan,
)
from offboard_emulators.atlassian.realism import wants_json_but_lacks_it
from offboard_emulators.atlassian.state import AtlassianState, AuthError, NotFoundError

Handler = Callable[[Request, ApiKey], Awaitable[Response]]


def org_for_key(state: AtlassianState, key: ApiKey, org_id: str) -> Org:
    """The org named in the path, if this key belongs to it (else ``NotFoundError``)."""
    org = state.org(org_id)
    if key.org_id != org_id:
        raise PermissionError(org_id)
    return org


def v1_endpoint(
    state: AtlassianState, handler: Handler
) -> Callable[[Request], Awaitable[Response]]:
    """Authenticate with an org key and map failures to v1 error bodies."""

    async def endpoint(request: Request) -> Response:
        try:
            key = state.authenticate(request.headers.get("authorization"), "org")
            if wants_json_but_lacks_it(
                request.method, request.headers.get("content-type"), state.realism
            ):
                return errors.unsupported_media_type()
            return await handler(request, key)
        except AuthError as error:
            return errors.proxy_error(401, error.message)
        except PermissionError:
            return errors.no_perms_error(request.url.path)
        except BadCursorError:
            return errors.application_error(400, "ADMIN-400-1", "Invalid page cursor")
        except (BodyError, ValueError) as error:
            return errors.application_error(400, "ADMIN-400-24", f"Invalid request body: {error}")
        except NotFoundError as error:
            code = "ADMIN-404-2" if str(error).startswith("org ") else "ADMIN-404-8"
            return errors.application_error(404, code, f"Not found: {error}")

    return endpoint


def routes(state: AtlassianState) -> list[Route]:
    """The v1 routes bound to ``state``."""

    async def list_orgs(request: Request, key: ApiKey) -> Response:
        org = state.org(key.org_id)
        if cursor := request.query_params.get("cursor"):
            # A key sees one org: one page, so no cursor was ever issued. Any cursor is
            # one of another listing or made up: 400 ``Error.InvalidPageCursor`` (spec).
            decode_cursor(cursor, f"v1orgs:{org.org_id}")
        base = base_url(request)
        links = {"self": f"{base}/admin/v1/orgs"}
        return JSONResponse({"data": [views.org_model(org, base)], "links": links})

    async def get_org(request: Request, key: ApiKey) -> Response:
        org = org_for_key(state, key, request.path_params["orgId"])
        return JSONResponse({"data": views.org_model(org, base_url(request))})

    async def list_users(request: Request, key: ApiKey) -> Response:
        org = org_for_key(state, key, request.path_params["orgId"])
        scope = f"v1users:{org.org_id}"
        cursor = request.query_params.get("cursor")
        start = decode_cursor(cursor, scope)[0] if cursor else 0

        def managed(account_id: str) -> bool:
            return state.claim_status(state.account(account_id)) == "managed"

        with state.lock:
            page = scan(org.account_order, start, org.settings.v1_page_size, managed)
            total = state.count_cached(
                ("v1total", org.org_id), lambda: sum(map(managed, org.account_order))
            )
            base = base_url(request)
            accounts = [state.account(i) for i in page.ids]
            data = [
                views.v1_user(a, base, state.membership_status(a, "-") == "suspended")
                for a in accounts
            ]
        links = _url_links(f"{base}{request.url.path}", scope, start if cursor else None, page)
        return JSONResponse({"data": data, "meta": {"total": total}, "links": links})

    async def search_users(request: Request, key: ApiKey) -> Response:
        org = org_for_key(state, key, request.path_params["orgId"])
        body = await json_body(request, required=True)
        limit = bounded_int(body.get("limit"), 10000, 1, 10000)
        account_ids = body.get("accountIds")
        if account_ids is not None and len(account_ids) > 100:
            raise BodyError("accountIds holds at most 100 ids")
        scope = f"v1search:{org.org_id}"
        cursor = body.get("cursor")
        start, filters = decode_cursor(cursor, scope) if cursor else (0, body)
        keep = _v1_search_filter(state, filters)
        expand = frozenset(filters.get("expand") or ())
        with state.lock:
            page = scan(org.account_order, start, limit, keep)
            data = [views.public_user(state.account(i), expand) for i in page.ids]
        links: dict[str, str] = {"self": encode_cursor(start, scope, _filters_of(body))}
        if page.next_position is not None:
            links["next"] = encode_cursor(page.next_position, scope, _filters_of(filters))
        return JSONResponse({"data": data, "links": links})

    async def list_domains(request: Request, key: ApiKey) -> Response:
        """``DomainPage``: pages "one page at a time" (spec), ``links`` being URLs
        (``LinkPageModel``), and an unknown cursor is 400 ``ADMIN-400-1``."""
        org = org_for_key(state, key, request.path_params["orgId"])
        scope = f"v1domains:{org.org_id}"
        cursor = request.query_params.get("cursor")
        start = decode_cursor(cursor, scope)[0] if cursor else 0
        base = base_url(request)
        with state.lock:
            page = scan(list(org.domains), start, org.settings.v1_page_size, lambda _: True)
            data = [views.domain_model(org, org.domains[i], base) for i in page.ids]
        links = _url_links(f"{base}{request.url.path}", scope, start if cursor else None, page)
        return JSONResponse({"data": data, "links": links})

    async def get_domain(request: Request, key: ApiKey) -> Response:
        org = org_for_key(state, key, request.path_params["orgId"])
        domain = org.domains.get(request.path_params["domainId"])
        if domain is None:
            return errors.application_error(404, "ADMIN-404-3", "Domain not found")
        return JSONResponse({"data": views.domain_model(org, domain, base_url(request))})

    def directory_action(status: str | None, verb: str) -> Handler:
        async def act(request: Request, key: ApiKey) -> Response:
            org = org_for_key(state, key, request.path_params["orgId"])
            account_id = request.path_params["accountId"]
            lifecycle.set_membership(state, org.org_id, "-", account_id, status)
            if status is None:
                return Response(status_code=204)
            message = f"Access to organization {org.org_id} was {verb} for user {account_id}"
            return JSONResponse({"message": message})

        return act

    prefix = "/admin/v1/orgs"
    user_path = f"{prefix}/{{orgId}}/directory/users/{{accountId}}"
    table: list[tuple[str, Handler, str]] = [
        (prefix, list_orgs, "GET"),
        (f"{prefix}/{{orgId}}", get_org, "GET"),
        (f"{prefix}/{{orgId}}/users", list_users, "GET"),
        (f"{prefix}/{{orgId}}/users/search", search_users, "POST"),
        (f"{prefix}/{{orgId}}/domains", list_domains, "GET"),
        (f"{prefix}/{{orgId}}/domains/{{domainId}}", get_domain, "GET"),
        (f"{user_path}/suspend-access", directory_action("suspended", "suspended"), "POST"),
        (f"{user_path}/restore-access", directory_action("active", "restored"), "POST"),
        (user_path, directory_action(None, "removed"), "DELETE"),
    ]
    retired = {table[3][0], *(row[0] for row in table[6:])}
    return [
        Route(path, v1_endpoint(state, _retirable(state, h) if path in retired else h), methods=[m])
        for path, h, m in table
    ]


def _url_links(page_url: str, scope: str, start: int | None, page: Page) -> dict[str, str]:
    """``LinkPageModel`` of the v1 listings: URLs holding the cursor (reference §9.11);
    ``start`` is None on the first page, asked without a cursor."""
    links = {
        "self": page_url if start is None else f"{page_url}?cursor={encode_cursor(start, scope)}"
    }
    if page.next_position is not None:
        links["next"] = f"{page_url}?cursor={encode_cursor(page.next_position, scope)}"
    return links


def _retirable(state: AtlassianState, handler: Handler) -> Handler:
    """v1 users search, suspend, restore and remove stopped working after 2026-06-30
    (landscape-2026); Atlassian's gateway answers a route it no longer has as an unknown
    resource. The v2 directory calls replace them."""

    async def retired_or_served(request: Request, key: ApiKey) -> Response:
        if state.realism.v1_users_retired:
            detail = "This endpoint was retired on 2026-06-30: use the v2 directory users API"
            return errors.application_error(404, "ADMIN-404-1", detail)
        return await handler(request, key)

    return retired_or_served


_SEARCH_KEYS = (
    "accountIds",
    "accountTypes",
    "accountStatuses",
    "namesOrNicknames",
    "emailUsernames",
    "emailDomains",
    "isSuspended",
    "expand",
)


def _filters_of(body: dict[str, Any]) -> dict[str, Any]:
    return {k: body[k] for k in _SEARCH_KEYS if k in body}


def _matches_text(rule: dict[str, Any] | None, *values: str) -> bool:
    if not rule:
        return True
    lowered = [v.lower() for v in values]
    eq = [str(v).lower() for v in rule.get("eq") or []]
    if eq and not any(v in eq for v in lowered):
        return False
    contains = str(rule.get("contains") or "").lower()
    return not contains or any(contains in v for v in lowered)


def _v1_search_filter(state: AtlassianState, body: dict[str, Any]) -> Callable[[str], bool]:
    """The predicate of ``UsersSearchRequest`` (accountStatuses are upper-case)."""
    ids = set(body.get("accountIds") or ())
    types = set(body.get("accountTypes") or ())
    statuses = {s.lower() for s in body.get("accountStatuses") or ()}
    suspended = body.get("isSuspended")

    def keep(account_id: str) -> bool:
        account = state.account(account_id)
        local, _, domain = account.email.partition("@")
        return (
            (not ids or account_id in ids)
            and (not types or account.account_type in types)
            and (not statuses or account.account_status in statuses)
            and _matches_text(body.get("namesOrNicknames"), account.name, account.nickname)
            and _matches_text(body.get("emailUsernames"), local)
            and _matches_text(body.get("emailDomains"), domain)
            and (
                suspended is None
                or (state.membership_status(account, "-") == "suspended") == bool(suspended)
            )
        )

    return keep
