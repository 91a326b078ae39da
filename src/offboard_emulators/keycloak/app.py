"""The emulated Keycloak over HTTP: the token endpoint and the Admin REST API subset offboard
uses, plus the control surface under `/_emulator`. `create_app(state)` is the ASGI factory."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from offboard_emulators.keycloak import control
from offboard_emulators.keycloak.emulator import EmulatorState
from offboard_emulators.keycloak.errors import KeycloakError, bad_request, not_found, oauth_error
from offboard_emulators.keycloak.group_routes import GroupRoutes
from offboard_emulators.keycloak.login import Principal
from offboard_emulators.keycloak.model import VIEW_EVENTS, VIEW_REALM
from offboard_emulators.keycloak.queries import EventFilter, parse_int
from offboard_emulators.keycloak.recording import RecordingMiddleware
from offboard_emulators.keycloak.users import UserRoutes, require

Handler = Callable[[Request, EmulatorState], Awaitable[Response]]


def keycloak_json(body: Any, status: int = 200) -> Response:
    """JSON the way the Admin API sends it."""
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        media_type="application/json;charset=UTF-8",
    )


def error_response(error: KeycloakError) -> Response:
    """Keycloak's error body (plain `application/json`, as the server labels errors)."""
    return JSONResponse(error.body, status_code=error.status)


def endpoint(state: EmulatorState, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler: realm check, and KeycloakError turned into Keycloak's answer."""

    async def run(request: Request) -> Response:
        try:
            realm = request.path_params.get("realm")
            if realm is not None and realm != state.realm.settings.name:
                # The admin API and the protocol endpoints word it differently.
                admin = request.url.path.startswith("/admin/")
                raise not_found("Realm not found." if admin else "Realm does not exist")
            return await handler(request, state)
        except KeycloakError as error:
            return error_response(error)

    return run


def caller(request: Request, state: EmulatorState) -> Principal:
    """The bearer token's principal (401 when missing, unknown or expired)."""
    return state.logins.principal(request.headers.get("authorization"))


async def token(request: Request, state: EmulatorState) -> Response:
    """`POST /realms/{realm}/protocol/openid-connect/token`."""
    # urlencoded by hand: Starlette's form parser would need python-multipart
    fields = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
    client_id, secret = fields.get("client_id"), fields.get("client_secret")
    basic = request.headers.get("authorization", "")
    if basic.startswith("Basic "):
        try:
            decoded = base64.b64decode(basic[6:]).decode()
        except ValueError:
            decoded = ":"
        user, _, password = decoded.partition(":")
        client_id, secret = unquote(user), unquote(password)
    grant = fields.get("grant_type")
    if grant == "client_credentials":
        body = state.logins.client_credentials(client_id, secret)
    elif grant == "password":
        username, password = fields.get("username", ""), fields.get("password", "")
        body = state.logins.password(client_id, secret, username, password)
    else:
        raise oauth_error(400, "unsupported_grant_type", "Unsupported grant_type")
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


async def realm_representation(request: Request, state: EmulatorState) -> Response:
    """`GET /admin/realms/{realm}`: the fields offboard reads (brute force, events, tokens);
    without `view-realm` Keycloak answers a slim representation, not 403."""
    settings = state.realm.settings
    if VIEW_REALM not in caller(request, state).roles:
        slim = {"realm": settings.name, "bruteForceProtected": settings.brute_force_protected}
        return keycloak_json({**slim, "supportedLocales": [], "organizationsEnabled": False})
    return keycloak_json(
        {
            "id": settings.id,
            "realm": settings.name,
            "enabled": True,
            "accessTokenLifespan": settings.access_token_lifespan,
            "bruteForceProtected": settings.brute_force_protected,
            "permanentLockout": settings.permanent_lockout,
            "maxTemporaryLockouts": 0,
            "bruteForceStrategy": "MULTIPLE",
            "maxFailureWaitSeconds": settings.max_failure_wait_seconds,
            "minimumQuickLoginWaitSeconds": settings.minimum_quick_login_wait_seconds,
            "waitIncrementSeconds": settings.wait_increment_seconds,
            "quickLoginCheckMilliSeconds": settings.quick_login_check_milli_seconds,
            "maxDeltaTimeSeconds": settings.max_delta_time_seconds,
            "failureFactor": settings.failure_factor,
            "eventsEnabled": settings.events_enabled,
            "adminEventsEnabled": settings.admin_events_enabled,
            "adminEventsDetailsEnabled": settings.admin_events_details_enabled,
            "attributes": dict(settings.attributes),
        }
    )


async def events_config(request: Request, state: EmulatorState) -> Response:
    """`GET …/events/config` (`RealmEventsConfigRepresentation`)."""
    principal = caller(request, state)
    require(principal, VIEW_EVENTS if VIEW_EVENTS in principal.roles else VIEW_REALM)
    settings = state.realm.settings
    body: dict[str, Any] = {"eventsEnabled": settings.events_enabled}
    if settings.events_expiration is not None:
        body["eventsExpiration"] = settings.events_expiration
    body.update(
        eventsListeners=list(settings.events_listeners),
        enabledEventTypes=list(settings.enabled_event_types),
        adminEventsEnabled=settings.admin_events_enabled,
        adminEventsDetailsEnabled=settings.admin_events_details_enabled,
    )
    return keycloak_json(body)


async def admin_events(request: Request, state: EmulatorState) -> Response:
    """`GET …/admin-events`: filters, paging, newest first by default."""
    require(caller(request, state), VIEW_EVENTS)
    where, first, max_, direction = event_query(request, state)
    await page_delay(state)
    events = state.realm.query_admin_events(where, first, max_, direction)
    return keycloak_json([event.to_json() for event in events])


async def user_events(request: Request, state: EmulatorState) -> Response:
    """`GET …/events`: user (login) events, same paging rules."""
    require(caller(request, state), VIEW_EVENTS)
    where, first, max_, direction = event_query(request, state)
    await page_delay(state)
    events = state.realm.query_user_events(where, first, max_, direction)
    return keycloak_json([event.to_json() for event in events])


def event_query(
    request: Request, state: EmulatorState
) -> tuple[EventFilter, int | None, int | None, str | None]:
    """The filters, paging and direction of an event listing (validated like the server).

    Before 26.2, dates were ``yyyy-MM-dd`` only and there was no ``direction`` (newest
    first always): the ``events_before_26_2`` setting answers like those servers."""
    params = request.query_params
    lists = {key: params.getlist(key) for key in ("operationTypes", "resourceTypes", "type")}
    if state.realm.events_before_26_2:
        for name in ("dateFrom", "dateTo"):
            if (params.get(name) or "").isdigit():
                raise bad_request(f"Invalid value for '{name}', expected format is yyyy-MM-dd")
    where = EventFilter.from_params(params, lists)
    first, max_ = parse_int(params.get("first")), parse_int(params.get("max"))
    direction = None if state.realm.events_before_26_2 else params.get("direction")
    return where, first, max_, direction


async def page_delay(state: EmulatorState) -> None:
    """The `page_latency_ms` fault: slow listings only."""
    delay = state.realm.faults.page_latency_ms
    if delay > 0:
        await asyncio.sleep(delay / 1000)


def create_app(state: EmulatorState) -> Starlette:
    """The ASGI app serving `state` (in process through httpx.ASGITransport, or uvicorn)."""
    users = UserRoutes(keycloak_json, caller, page_delay)
    admin = "/admin/realms/{realm}"
    table: list[tuple[str, Handler, list[str]]] = [
        ("/realms/{realm}/protocol/openid-connect/token", token, ["POST"]),
        (admin, realm_representation, ["GET"]),
        (f"{admin}/events/config", events_config, ["GET"]),
        (f"{admin}/admin-events", admin_events, ["GET"]),
        (f"{admin}/events", user_events, ["GET"]),
        *users.table(admin),
        *GroupRoutes(keycloak_json, caller, page_delay).table(admin),
    ]
    routes = [
        Route(path, endpoint(state, handler), methods=methods) for path, handler, methods in table
    ]
    routes += control.routes(state)
    app = Starlette(routes=routes)
    app.add_middleware(RecordingMiddleware, state=state, render_error=error_response)
    return app
