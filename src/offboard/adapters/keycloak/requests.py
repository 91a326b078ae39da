"""Reads against the Admin REST API: status → error tree, bounded retries, no secrets in errors.

``offboard.adapters.http`` is the shared home of these rules; this module keeps the Keycloak
side to what it needs (GET only, JSON bodies) until that helper settles.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import TypeAlias

import httpx
import stamina

from offboard.ports import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermanentError,
    TemporaryError,
)

QueryValue: TypeAlias = str | int | bool | Sequence[str]
Query: TypeAlias = Mapping[str, QueryValue]

ERROR_BODY_LIMIT = 200
"""Characters of an error body kept in a message: enough to explain, too few to leak much."""


class AccessDeniedError(PermanentError):
    """403: the service account lacks a role. Never read as "the user is gone"."""


class AdminReader:
    """GETs JSON bodies from ``{base}/admin/realms/{realm}/…`` with retries on temporary errors."""

    def __init__(self, client: httpx.AsyncClient, realm_url: str, *, attempts: int = 4) -> None:
        self._client = client
        self.realm_url = realm_url.rstrip("/")
        self._attempts = attempts
        self.requests_sent = 0
        """Admin requests sent, retries included (for benchmarks and API-efficiency checks)."""

    async def get(self, path: str, params: Query | None = None) -> bytes:
        """The body of a 200 answer to ``GET realm_url/path``; raises the ports' errors."""
        url = f"{self.realm_url}/{path}" if path else self.realm_url
        async for attempt in stamina.retry_context(
            on=_retry_hook, attempts=self._attempts, wait_initial=0.2, wait_max=10.0
        ):
            with attempt:
                return await self._get_once(url, path, params)
        raise AssertionError("unreachable: retry_context either returns or raises")

    async def _get_once(self, url: str, path: str, params: Query | None) -> bytes:
        self.requests_sent += 1
        try:
            response = await self._client.get(url, params=_encode(params))
        except httpx.TimeoutException as error:
            raise TemporaryError(
                f"Keycloak timed out on GET {path}: {type(error).__name__}"
            ) from None
        except httpx.TransportError as error:
            raise TemporaryError(
                f"Keycloak unreachable on GET {path}: {type(error).__name__}"
            ) from None
        raise_for_status(response, f"GET {path}")
        return response.content


def raise_for_status(response: httpx.Response, what: str) -> None:
    """Map a non-2xx answer to the ports' error tree, with a truncated body for context."""
    status = response.status_code
    if status < 300:
        return
    message = f"Keycloak answered HTTP {status} to {what}: {_short_body(response)}"
    if status == 401:
        raise AuthenticationError(message, status=status)
    if status == 403:
        raise AccessDeniedError(message, status=status)
    if status == 404:
        raise NotFoundError(message, status=status)
    if status == 409:
        raise ConflictError(message, status=status)
    if status in (408, 429) or status >= 500:
        raise TemporaryError(message, retry_after=retry_after(response), status=status)
    raise PermanentError(message, status=status)


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date), if any."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    date_header = response.headers.get("Date")
    now = parsedate_to_datetime(date_header) if date_header else None
    return max(0.0, (moment - now).total_seconds()) if now else None


def _retry_hook(error: Exception) -> bool | float:
    if isinstance(error, TemporaryError):
        return error.retry_after if error.retry_after is not None else True
    return False


def _short_body(response: httpx.Response) -> str:
    text = response.text.replace("\n", " ").strip()
    return text[:ERROR_BODY_LIMIT] + ("…" if len(text) > ERROR_BODY_LIMIT else "")


def _encode(params: Query | None) -> httpx.QueryParams:
    """Query pairs, repeating a key for list values (``operationTypes=UPDATE&…=DELETE``)."""
    pairs: list[tuple[str, str | int | float | bool | None]] = []
    for key, value in (params or {}).items():
        if isinstance(value, bool):
            pairs.append((key, "true" if value else "false"))
        elif isinstance(value, str | int):
            pairs.append((key, str(value)))
        else:
            pairs.extend((key, item) for item in value)
    return httpx.QueryParams(pairs)
