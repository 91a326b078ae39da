"""The control surface under ``/_emulator``: reset, seed, clock, org switches, inspection.

It needs no credential: the emulator only ever listens on loopback.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from offboard_emulators.atlassian.fixture import seed
from offboard_emulators.atlassian.model import Account, OrgSettings
from offboard_emulators.atlassian.realism import Realism
from offboard_emulators.atlassian.state import AtlassianState, NotFoundError, OffsetClock
from offboard_emulators.common.control import (
    ControlError,
    control_error,
    read_json_object,
    shared_control_routes,
)
from offboard_emulators.common.faults import FaultConfig, FaultInjector
from offboard_emulators.common.middleware import CONTROL_PREFIX
from offboard_emulators.common.ratelimit import RateLimitConfig, RateLimiter
from offboard_emulators.common.recorder import RequestLog


def account_state(state: AtlassianState, account: Account) -> dict[str, Any]:
    """Everything the emulator knows about one account, for tests and debugging."""
    body = {f.name: getattr(account, f.name) for f in fields(account)}
    body["product_access"] = [asdict(p) for p in account.product_access]
    body["claim_status"] = state.claim_status(account)
    org = state.orgs[account.org_id]
    body["memberships"] = {
        d.directory_id: d.memberships[account.account_id]
        for d in org.directories.values()
        if account.account_id in d.memberships
    }
    body["scim_links"] = [asdict(link) for link in state.scim_links.get(account.account_id, [])]
    safe: dict[str, Any] = _json_safe(body)
    return safe


def _json_safe(value: Any) -> Any:
    """Datetimes as ISO strings at any depth (product access carries its own)."""
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return value.isoformat() if hasattr(value, "isoformat") else value


def routes(
    state: AtlassianState, log: RequestLog, limiter: RateLimiter, faults: FaultInjector
) -> list[Route]:
    """Control routes for this emulator, plus the shared requests/faults/limits routes."""
    prefix = CONTROL_PREFIX

    async def reset(request: Request) -> Response:
        state.reset()
        state.realism = Realism()
        log.clear()
        limiter.configure(RateLimitConfig())
        faults.configure(FaultConfig())
        if isinstance(state.clock, OffsetClock):
            state.clock.offset = timedelta(0)
        return Response(status_code=204)

    async def seed_endpoint(request: Request) -> Response:
        try:
            seed(state, await read_json_object(request))
        except (ControlError, KeyError, TypeError, ValueError) as error:
            return control_error(f"bad fixture: {error!r}")
        return JSONResponse({"orgs": sorted(state.orgs), "accounts": len(state.accounts)})

    async def account_endpoint(request: Request) -> Response:
        try:
            with state.lock:
                account = state.account(request.path_params["accountId"])
                return JSONResponse(account_state(state, account))
        except NotFoundError:
            return control_error("no such account", 404)

    async def settings_endpoint(request: Request) -> Response:
        try:
            org = state.org(request.path_params["orgId"])
            if request.method == "PUT":
                changes = await read_json_object(request)
                org.settings = OrgSettings(**{**asdict(org.settings), **changes})
                state.changed()
        except NotFoundError:
            return control_error("no such org", 404)
        except (ControlError, TypeError) as error:
            return control_error(str(error))
        return JSONResponse(asdict(org.settings))

    async def realism_endpoint(request: Request) -> Response:
        if request.method == "PUT":
            try:
                changes = await read_json_object(request)
                state.realism = Realism(**{**asdict(state.realism), **changes})
            except (ControlError, TypeError) as error:
                return control_error(str(error))
        return JSONResponse(asdict(state.realism))

    async def clock_endpoint(request: Request) -> Response:
        if not isinstance(state.clock, OffsetClock):
            return control_error("this state uses a custom clock", 409)
        if request.method == "PUT":
            try:
                seconds = float((await read_json_object(request))["offset_seconds"])
            except (ControlError, KeyError, TypeError, ValueError) as error:
                return control_error(f"expected {{'offset_seconds': number}}: {error!r}")
            state.clock.offset = timedelta(seconds=seconds)
            state.changed()
        now = state.clock().isoformat()
        return JSONResponse({"offset_seconds": state.clock.offset.total_seconds(), "now": now})

    return [
        Route(f"{prefix}/reset", reset, methods=["POST"]),
        Route(f"{prefix}/seed", seed_endpoint, methods=["POST"]),
        Route(f"{prefix}/accounts/{{accountId}}", account_endpoint, methods=["GET"]),
        Route(f"{prefix}/orgs/{{orgId}}/settings", settings_endpoint, methods=["GET", "PUT"]),
        Route(f"{prefix}/clock", clock_endpoint, methods=["GET", "PUT"]),
        Route(f"{prefix}/realism", realism_endpoint, methods=["GET", "PUT"]),
        *shared_control_routes(prefix, log, limiter, faults),
    ]
