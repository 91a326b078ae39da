"""Small request helpers shared by the three APIs."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request


class BodyError(ValueError):
    """The request body is not the JSON the operation expects."""


async def json_body(request: Request, *, required: bool = False) -> dict[str, Any]:
    """The body as a JSON object; an empty body is ``{}`` unless ``required``."""
    raw = await request.body()
    if not raw.strip():
        if required:
            raise BodyError("request body is required")
        return {}
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BodyError("request body is not valid JSON") from error
    if not isinstance(data, dict):
        raise BodyError("request body must be a JSON object")
    return data


def query_list(request: Request, name: str) -> list[str]:
    """A repeated or comma-separated query parameter (``a=1&a=2`` or ``a=1,2``)."""
    values: list[str] = []
    for raw in request.query_params.getlist(name):
        values.extend(part for part in raw.split(",") if part)
    return values


def base_url(request: Request) -> str:
    """Scheme and host the client used, without a trailing slash."""
    return str(request.base_url).rstrip("/")


def bounded_int(raw: object, default: int, low: int, high: int) -> int:
    """``raw`` as an int in ``[low, high]``; ``ValueError`` otherwise."""
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        raise ValueError("not an integer")
    value = int(raw) if isinstance(raw, int | str) else int(str(raw))
    if not low <= value <= high:
        raise ValueError(f"must be between {low} and {high}")
    return value
