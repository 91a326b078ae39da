"""Routes for use and billing: v1 last-active dates and the user API token calls.

``GET /admin/v1/orgs/{orgId}/directory/users/{accountId}/last-active-dates`` answers
``UserProductAccessActivityPage`` (one page: a person uses few products).
``GET /users/{account_id}/manage/api-tokens`` answers a bare array of ``ApiTokenModel``;
``DELETE .../api-tokens/{tokenId}`` answers 204, and ``{"key": "notFound"}`` for a token
the account does not hold (so a caller can never revoke someone else's token).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from offboard_emulators.atlassian import errors, lifecycle, usage, views
from offboard_emulators.atlassian.model import ApiKey
from offboard_emulators.atlassian.org_api import org_for_key, v1_endpoint
from offboard_emulators.atlassian.paging import decode_cursor, encode_cursor
from offboard_emulators.atlassian.state import AtlassianState, NotFoundError
from offboard_emulators.atlassian.user_management_api import um_endpoint


def _token_model(token: usage.ApiToken) -> dict[str, str]:
    body = {
        "id": token.token_id,
        "label": token.label,
        "createdAt": views.milli_timestamp(token.created_at),
    }
    if token.last_access is not None:
        body["lastAccess"] = views.milli_timestamp(token.last_access)
    return body


def routes(state: AtlassianState) -> list[Route]:
    """The use-and-billing routes bound to ``state``."""

    async def last_active(request: Request, key: ApiKey) -> Response:
        """Pages ``product_access`` by the org's v1 page size: the spec documents a
        ``cursor`` and ``links.next`` (``CursorNextPageModel``, a bare cursor), so a client
        must follow them; an unknown cursor is a 400."""
        org = org_for_key(state, key, request.path_params["orgId"])
        account_id = request.path_params["accountId"]
        scope = f"v1active:{org.org_id}:{account_id}"
        cursor = request.query_params.get("cursor")
        start = decode_cursor(cursor, scope)[0] if cursor else 0
        size = org.settings.v1_page_size
        with state.lock:
            account = state.account(account_id)
            if account.org_id != org.org_id:
                raise NotFoundError(account.account_id)
            data, more = usage.last_active_dates(state, account.account_id, start, size)
        links = {"next": encode_cursor(start + size, scope)} if more else {}
        return JSONResponse({"data": data, "links": links})

    async def list_tokens(request: Request, key: ApiKey, account_id: str) -> Response:
        with state.lock:
            lifecycle.manageable_account(state, key, account_id)
            held = [_token_model(t) for t in usage.tokens_of(state, account_id)]
        return JSONResponse(held)

    async def delete_token(request: Request, key: ApiKey, account_id: str) -> Response:
        with state.lock:
            lifecycle.manageable_account(state, key, account_id)
            try:
                usage.revoke_token(state, account_id, request.path_params["tokenId"])
            except NotFoundError:
                return errors.um_error(404, "notFound")
        return Response(status_code=204)

    user_path = "/admin/v1/orgs/{orgId}/directory/users/{accountId}"
    tokens = "/users/{account_id}/manage/api-tokens"
    return [
        Route(f"{user_path}/last-active-dates", v1_endpoint(state, last_active), methods=["GET"]),
        Route(tokens, um_endpoint(state, list_tokens), methods=["GET"]),
        Route(f"{tokens}/{{tokenId}}", um_endpoint(state, delete_token), methods=["DELETE"]),
    ]
