"""User management API (reference §2): permissions, profile and account lifecycle."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from offboard_emulators.atlassian import errors, lifecycle, views
from offboard_emulators.atlassian.http_helpers import BodyError, json_body, query_list
from offboard_emulators.atlassian.model import ApiKey
from offboard_emulators.atlassian.realism import wants_json_but_lacks_it
from offboard_emulators.atlassian.state import (
    AtlassianState,
    AuthError,
    ConflictError,
    NotFoundError,
    RefusedError,
)

Handler = Callable[[Request, ApiKey, str], Awaitable[Response]]


def um_endpoint(
    state: AtlassianState, handler: Handler
) -> Callable[[Request], Awaitable[Response]]:
    """Authenticate with an org key and map failures to key-based error bodies."""

    async def endpoint(request: Request) -> Response:
        account_id = request.path_params["account_id"]
        try:
            key = state.authenticate(request.headers.get("authorization"), "org")
            if wants_json_but_lacks_it(
                request.method, request.headers.get("content-type"), state.realism
            ):
                return errors.unsupported_media_type()
            return await handler(request, key, account_id)
        except AuthError:
            return errors.um_error(401, "unauthorized")
        except NotFoundError:
            return errors.um_error(404, "accountNotFound")
        except RefusedError as refusal:
            if refusal.reason is not None:
                return errors.um_forbidden_action(refusal.reason)
            return errors.um_error(403, refusal.key)
        except ConflictError as conflict:
            return errors.um_lifecycle_conflict(account_id, conflict.code, conflict.message)
        except BodyError:
            return errors.um_error(400, "bodyParseFailure")

    return endpoint


def routes(state: AtlassianState) -> list[Route]:
    """The user management routes bound to ``state``."""

    async def manage(request: Request, key: ApiKey, account_id: str) -> Response:
        wanted = query_list(request, "privileges")
        unknown = [p for p in wanted if p not in lifecycle.PRIVILEGES]
        if unknown:
            raise BodyError(f"unknown privileges {unknown}")
        with state.lock:
            return JSONResponse(lifecycle.permissions(state, key, account_id, wanted))

    async def profile(request: Request, key: ApiKey, account_id: str) -> Response:
        with state.lock:
            account = lifecycle.manageable_account(state, key, account_id)
            return JSONResponse(views.um_profile(account))

    async def disable(request: Request, key: ApiKey, account_id: str) -> Response:
        body = await json_body(request)
        message = body.get("message")
        if message is not None and not isinstance(message, str):
            raise BodyError("message must be a string")
        lifecycle.disable(state, key, account_id, message)
        return Response(status_code=204)

    async def enable(request: Request, key: ApiKey, account_id: str) -> Response:
        lifecycle.enable(state, key, account_id)
        return Response(status_code=204)

    async def delete(request: Request, key: ApiKey, account_id: str) -> Response:
        lifecycle.delete(state, key, account_id)
        return JSONResponse({"message": "Success"})

    async def cancel_delete(request: Request, key: ApiKey, account_id: str) -> Response:
        lifecycle.cancel_delete(state, key, account_id)
        return JSONResponse({"message": "Success"})

    base = "/users/{account_id}/manage"
    table: list[tuple[str, Handler, str]] = [
        (base, manage, "GET"),
        (f"{base}/profile", profile, "GET"),
        (f"{base}/lifecycle/disable", disable, "POST"),
        (f"{base}/lifecycle/enable", enable, "POST"),
        (f"{base}/lifecycle/delete", delete, "POST"),
        (f"{base}/lifecycle/cancel-delete", cancel_delete, "POST"),
    ]
    return [Route(path, um_endpoint(state, h), methods=[m]) for path, h, m in table]
