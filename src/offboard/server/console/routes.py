"""The console's routes on the operations listener (``console_routes``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from offboard.server.console import attention_page, history, performers, person_page
from offboard.server.console.acts import Outcomes, act_handler, outcome_page
from offboard.server.console.attention import gather
from offboard.server.console.backend import ConsoleBackend
from offboard.server.console_user import console_user, csrf_token
from offboard.service.status import DaemonStatus

ACTS = {
    "/act/release-hold": performers.release,
    "/act/link-set": performers.link_set,
    "/act/link-remove": performers.link_remove,
    "/act/resolve": performers.resolve,
    "/act/retry": performers.retry,
    "/act/override": performers.override,
    "/act/cutoff": performers.cutoff,
    "/act/cutoff-lift": performers.cutoff_lift,
}


def console_routes(
    status: DaemonStatus, limits: Mapping[str, timedelta], backend: ConsoleBackend
) -> list[Route]:
    """``/``, ``/status.json``, ``/history`` (+ ``.csv``, ``.json``), the acts and outcomes."""
    outcomes = Outcomes()

    async def index(request: Request) -> Response:
        user = console_user(request)
        page = await attention_page.current(status, limits, backend, user, csrf_token(request))
        return HTMLResponse(page)

    async def status_json(request: Request) -> Response:
        items = await gather(status, limits, backend)
        document = attention_page.status_document(status, items, status.not_ready_reasons(limits))
        return JSONResponse(document)

    async def history_page(request: Request) -> Response:
        params = dict(request.query_params)
        return HTMLResponse(await history.render(params, backend, console_user(request)))

    async def person(request: Request) -> Response:
        wanted = request.query_params.get("id", "")
        user = console_user(request)
        return HTMLResponse(await person_page.render(wanted, backend, user, csrf_token(request)))

    async def history_csv(request: Request) -> Response:
        return _export(request, backend, "csv")

    async def history_json(request: Request) -> Response:
        return _export(request, backend, "json")

    routes = [
        Route("/", index, methods=["GET"]),
        Route("/status.json", status_json, methods=["GET"]),
        Route("/history", history_page, methods=["GET"]),
        Route("/person", person, methods=["GET"]),
        Route("/history.csv", history_csv, methods=["GET"]),
        Route("/history.json", history_json, methods=["GET"]),
        Route("/act/outcome/{token}", outcome_page(outcomes), methods=["GET"]),
    ]
    routes += [
        Route(path, act_handler(perform, backend, outcomes), methods=["POST"])
        for path, perform in ACTS.items()
    ]
    return routes


def _export(request: Request, backend: ConsoleBackend, kind: str) -> Response:
    if backend.search is None:
        return JSONResponse({"error": "no store is wired"}, status_code=503)
    query = history.query_of(dict(request.query_params))
    disposition = {"Content-Disposition": f"attachment; filename=offboard-history.{kind}"}
    if kind == "csv":
        lines = history.csv_lines(backend.search, query)
        return StreamingResponse(lines, media_type="text/csv; charset=utf-8", headers=disposition)
    lines = history.json_lines(backend.search, query)
    return StreamingResponse(lines, media_type="application/json", headers=disposition)
