"""Error bodies, each in the shape its API documents (reference §1.9, §2.4, §3.8)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from starlette.responses import JSONResponse, Response

SCIM_ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
SCIM_MEDIA_TYPE = "application/scim+json"

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    415: "Unsupported Media Type",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def application_error(status: int, code: str, detail: str) -> JSONResponse:
    """Organizations API ``{"errors": [{id, status, code, title, detail}]}``."""
    error = {
        "id": str(uuid.uuid4()),
        "status": str(status),
        "code": code,
        "title": _TITLES.get(status, "Error"),
        "detail": detail,
    }
    return JSONResponse({"errors": [error]}, status_code=status)


def unsupported_media_type() -> JSONResponse:
    """415 ``ADMIN-UAM-415-1`` (the Organizations spec's error code list): the request's
    media type is not JSON. User management is assumed to answer alike (field reports)."""
    return application_error(415, "ADMIN-UAM-415-1", "Unsupported Media Type")


def proxy_error(status: int, message: str) -> JSONResponse:
    """Gateway ``ProxyError`` ``{"code", "message"}`` used for 401 and 429."""
    return JSONResponse({"code": status, "message": message}, status_code=status)


def no_perms_error(path: str) -> JSONResponse:
    """Organizations API ``NoPermsError`` (403) as seen in the wild."""
    body = {
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "path": path,
        "status": 403,
        "error": "Forbidden",
        "message": "User has no permission to access resource.",
        "requestId": uuid.uuid4().hex,
    }
    return JSONResponse(body, status_code=403)


def um_error(status: int, key: str, context: object | None = None) -> JSONResponse:
    """User management ``{"key": ..., "context"?: ...}``."""
    body: dict[str, object] = {"key": key}
    if context is not None:
        body["context"] = context
    return JSONResponse(body, status_code=status)


def um_forbidden_action(reason: str) -> JSONResponse:
    """``forbidden.action`` with the restriction reason in ``context``."""
    return um_error(403, "forbidden.action", {"allowed": False, "reason": {"key": reason}})


def um_lifecycle_conflict(account_id: str, code: str, message: str) -> JSONResponse:
    """409 ``conflict.lifecycleErrors``."""
    context = {
        "message": "This account isn't eligible for the requested action.",
        "accountId": account_id,
        "errorCodes": [
            {"code": code, "message": message, "link": "https://confluence.atlassian.com/x/pTgoPQ"}
        ],
    }
    return um_error(409, "conflict.lifecycleErrors", context)


def scim_error(status: int, detail: str, scim_type: str | None = None) -> JSONResponse:
    """SCIM ``ScimError`` (status as a string)."""
    body: dict[str, object] = {"schemas": [SCIM_ERROR_SCHEMA], "status": str(status)}
    if scim_type is not None:
        body["scimType"] = scim_type
    body["detail"] = detail
    return JSONResponse(body, status_code=status, media_type=SCIM_MEDIA_TYPE)


def scim_failure(status: int, message: str) -> JSONResponse:
    """SCIM ``Failure`` ``{"error", "traceId"}`` used for 401 and 403."""
    return JSONResponse({"error": message, "traceId": uuid.uuid4().hex}, status_code=status)


def render_error(path: str, status: int, message: str) -> Response:
    """The body for rate-limit and injected-fault answers, in the called API's style."""
    if path.startswith("/scim/"):
        if status in (401, 403):
            return scim_failure(status, message)
        if status == 429:
            return scim_error(status, message, "tooMany")
        return scim_error(status, message)
    if path.startswith("/users/"):
        if status in (401, 404):
            return um_error(status, "unauthorized" if status == 401 else "notFound")
        return proxy_error(status, message)
    if status in (401, 429) and not path.startswith("/admin/v2/"):
        return proxy_error(status, message)
    code = "ADMIN-429-1" if status == 429 else f"ADMIN-{status}-1"
    return application_error(status, code, message)
