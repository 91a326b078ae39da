"""Reading Atlassian's error bodies: which 403 means "not manageable", and why.

The body kind depends on the layer that answered: ``{"errors": [...]}`` (org API),
``ProxyError`` (gateway), ``NoPermsError`` (permissions) and ``{"key": ...}`` (user
management). Messages carry codes and reasons, never the request's credentials.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from offboard.adapters.atlassian_org.wire import (
    ApplicationErrors,
    KeyedError,
    NoPermsError,
    ProxyError,
)
from offboard.adapters.http import MAX_BODY_CHARS, scrub
from offboard.ports import AuthenticationError, NotManageableError, PermanentError

AUTH_MESSAGE = (
    "Atlassian API key expired or wrong (HTTP 401): create a new org API key without scopes "
    "in admin.atlassian.com → Settings → API keys"
)
SCOPED_KEY_HINT = "the API key may have scopes: create the key without scopes"

_MANAGEABILITY_KEYS = {"forbidden", "forbidden.targetUnverified"}
M = TypeVar("M", bound=BaseModel)


def parse_body(response: httpx.Response, model: type[M]) -> M | None:
    """The body as ``model`` or None when it is another kind (or not JSON)."""
    try:
        return model.model_validate(response.json())
    except (ValidationError, json.JSONDecodeError, UnicodeDecodeError, TypeError):
        return None


def error_summary(response: httpx.Response) -> str:
    """A short description of any documented error body: codes, keys, messages."""
    if (app := parse_body(response, ApplicationErrors)) is not None and app.errors:
        return "; ".join(f"{e.code or e.status}: {e.title or e.detail or ''}" for e in app.errors)
    if (keyed := parse_body(response, KeyedError)) is not None:
        return keyed.key
    if (proxy := parse_body(response, ProxyError)) is not None:
        return f"{proxy.code}: {proxy.message}"
    if (perms := parse_body(response, NoPermsError)) is not None:
        return f"{perms.error}: {perms.message}"
    return ""


def _lifecycle_words(context: dict[str, Any]) -> str:
    """``conflict.lifecycleErrors``: Atlassian's sentence, then each ``code: message (link)``."""
    codes = context.get("errorCodes")
    codes = codes if isinstance(codes, list) else []
    parts = []
    for entry in codes:
        if isinstance(entry, dict) and entry.get("code"):
            text = f"{entry['code']}: {entry.get('message') or ''}".rstrip(": ")
            parts.append(text + (f" (see {entry['link']})" if entry.get("link") else ""))
    lead = str(context.get("message") or "the account is not eligible for this action")
    return f"{lead.rstrip('.')}: {'; '.join(parts)}" if parts else lead


def _violations(context: dict[str, Any]) -> str:
    fields = context.get("fieldViolations")
    fields = fields if isinstance(fields, list) else []
    named = [
        f"{v.get('field')}: {', '.join(str(x.get('key')) for x in v.get('violations') or [])}"
        for v in fields
        if isinstance(v, dict)
    ]
    return "; ".join(named) or "a field of the request broke Atlassian's constraints"


def explain(response: httpx.Response) -> str | None:
    """A 400 or 409 in words, from its documented body: the user management ``key`` with its
    ``context`` (``conflict.lifecycleErrors`` names why the account is not eligible, e.g. it
    owns a site), or the org API's ``ADMIN-*`` codes. None leaves the body as it is."""
    keyed = parse_body(response, KeyedError)
    if keyed is not None:
        context = keyed.context or {}
        if keyed.key == "conflict.lifecycleErrors":
            return f"{keyed.key}: {scrub(_lifecycle_words(context))}"[:MAX_BODY_CHARS]
        if keyed.key == "fieldConstraintsViolated":
            return f"{keyed.key}: {scrub(_violations(context))}"[:MAX_BODY_CHARS]
        return f"{keyed.key}: Atlassian refused the request"
    app = parse_body(response, ApplicationErrors)
    if app is not None and app.errors:
        return scrub(error_summary(response))[:MAX_BODY_CHARS]
    return None


def refine_403(response: httpx.Response, what: str) -> PermanentError | None:
    """User management 403s that say why the account cannot be managed."""
    keyed = parse_body(response, KeyedError)
    if keyed is None:
        summary = error_summary(response)
        return PermanentError(f"{what}: HTTP 403: {summary}".rstrip(": "), status=403)
    if keyed.key.lower() == "forbidden.action":
        reason = ((keyed.context or {}).get("reason") or {}).get("key") or "forbidden.action"
        return NotManageableError(
            f"{what}: Atlassian refuses: {reason}", reason_key=str(reason), status=403
        )
    if keyed.key in _MANAGEABILITY_KEYS:
        hint = "the account is not managed by this org"
        if keyed.key == "forbidden":
            hint += f", or {SCOPED_KEY_HINT}"
        return NotManageableError(f"{what}: {keyed.key}: {hint}", reason_key=keyed.key)
    return PermanentError(f"{what}: HTTP 403: {keyed.key}", status=403)


def authentication_error(what: str) -> AuthenticationError:
    return AuthenticationError(f"{what}: {AUTH_MESSAGE}", status=401)
