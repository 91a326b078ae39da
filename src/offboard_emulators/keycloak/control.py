"""The control surface under `/_emulator` (not part of Keycloak's API).

POST   /_emulator/reset             back to the seed; no faults, no recorded requests
POST   /_emulator/seed              body: a realm-import JSON (replaces the realm), or
                                    {"bulk": {"count": 100000, "prefix": "user",
                                              "disabled_every": 0}} (adds users fast)
GET    /_emulator/requests          recorded requests, oldest first; DELETE clears
GET|PUT /_emulator/faults           5xx rate/status, latency, fail the Nth request
                                    (offboard_emulators.common.faults.FaultConfig)
GET|PUT /_emulator/keycloak-faults  spurious enabled:false, slow pages, a user deleted
                                    during paging, cut representations (KeycloakFaults)
POST   /_emulator/clock             {"advance_seconds": 301}: expire tokens and lockouts
PUT    /_emulator/settings          {"lockout_reports_disabled": true}: 26.3-era reads;
                                    {"events_before_26_2": true}: 26.0/26.1 event queries
"""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from offboard_emulators.common.control import ControlError, control_error, read_json_object
from offboard_emulators.common.faults import FaultConfig
from offboard_emulators.common.middleware import CONTROL_PREFIX
from offboard_emulators.keycloak.emulator import EmulatorState
from offboard_emulators.keycloak.seed import add_bulk_users, realm_from_json
from offboard_emulators.keycloak.state import KeycloakFaults


def routes(state: EmulatorState) -> list[Route]:
    """The control routes for one emulator."""

    async def reset(_: Request) -> Response:
        state.reset()
        return Response(status_code=204)

    async def seed(request: Request) -> Response:
        body = await read_json_object(request)
        if "bulk" in body:
            options = dict(body["bulk"])
            add_bulk_users(state.realm, int(options.pop("count")), **options)
        else:
            state.replace_realm(realm_from_json(body))
        return JSONResponse({"users": len(state.realm.users)})

    async def requests(request: Request) -> Response:
        if request.method == "DELETE":
            state.requests.clear()
            return Response(status_code=204)
        return JSONResponse({"requests": [entry.to_json() for entry in state.requests.entries()]})

    async def faults(request: Request) -> Response:
        if request.method == "PUT":
            state.faults.configure(FaultConfig.from_json(await read_json_object(request)))
        return JSONResponse(state.faults.config.to_json())

    async def keycloak_faults(request: Request) -> Response:
        if request.method == "PUT":
            state.realm.configure_faults(parse_keycloak_faults(await read_json_object(request)))
        return JSONResponse(dataclasses.asdict(state.realm.faults))

    async def clock(request: Request) -> Response:
        body = await read_json_object(request)
        state.realm.clock_offset_ms += int(float(body.get("advance_seconds", 0)) * 1000)
        return JSONResponse({"now": state.realm.now_ms()})

    async def settings(request: Request) -> Response:
        body = await read_json_object(request)
        if "lockout_reports_disabled" in body:
            state.realm.lockout_reports_disabled = bool(body["lockout_reports_disabled"])
        if "events_before_26_2" in body:
            state.realm.events_before_26_2 = bool(body["events_before_26_2"])
        realm = state.realm
        return JSONResponse(
            {
                "lockout_reports_disabled": realm.lockout_reports_disabled,
                "events_before_26_2": realm.events_before_26_2,
            }
        )

    table: list[tuple[str, Any, list[str]]] = [
        ("/reset", reset, ["POST"]),
        ("/seed", seed, ["POST"]),
        ("/requests", requests, ["GET", "DELETE"]),
        ("/faults", faults, ["GET", "PUT"]),
        ("/keycloak-faults", keycloak_faults, ["GET", "PUT"]),
        ("/clock", clock, ["POST"]),
        ("/settings", settings, ["PUT"]),
    ]
    return [
        Route(CONTROL_PREFIX + path, guarded(handler), methods=methods)
        for path, handler, methods in table
    ]


def guarded(handler: Any) -> Any:
    """Turn bad control input into a 400 with the reason."""

    async def run(request: Request) -> Response:
        try:
            response: Response = await handler(request)
        except (ControlError, TypeError, ValueError, KeyError) as error:
            return control_error(str(error))
        return response

    return run


def parse_keycloak_faults(data: dict[str, Any]) -> KeycloakFaults:
    """Validate the Keycloak-specific fault plan."""
    known = {f.name for f in dataclasses.fields(KeycloakFaults)}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown fault(s): {', '.join(sorted(unknown))}")
    faults = KeycloakFaults(**data)
    if not 0.0 <= faults.spurious_disabled_rate <= 1.0:
        raise ValueError("spurious_disabled_rate must be between 0 and 1")
    return faults
