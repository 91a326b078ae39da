"""Reads against the Admin REST API, through the shared rules of ``offboard.adapters.http``.

What is Keycloak-specific here: a 403 means a missing role (``AccessDeniedError``), never a
missing user, and list-valued query parameters repeat their key. A read comes in three
steps for callers that must not overlap exchanges with the server (``confirmation``):
``prepare`` builds the request, ``exchange`` sends it until it succeeds or fails for good,
``parse`` validates the body; only ``exchange`` needs to be inside their turn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias, TypeVar
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter, ValidationError

from offboard.adapters.http import RetryPolicy, body_excerpt, send, with_retries
from offboard.ports import PermanentError

T = TypeVar("T")
QueryValue: TypeAlias = str | int | bool | Sequence[str]
Query: TypeAlias = Mapping[str, QueryValue]

READ_RETRIES = RetryPolicy(attempts=4, timeout=120.0, wait_initial=0.2, wait_max=10.0)
"""Reads are cheap to repeat; a page that still fails after these marks the walk incomplete."""


def seg(value: str) -> str:
    """``value`` as one path segment, escaped: an id from a form, a file or an event is never
    a malformed URL, nor a path to another endpoint (``../clients``)."""
    return quote(value, safe="")


class AccessDeniedError(PermanentError):
    """403: the service account lacks a role. Never read as "the user is gone"."""


ROLE_BY_PATH = (
    ("admin-events", "view-events"),
    ("events", "view-events"),
    ("users/count", "query-users"),
    ("users/profile", "view-users"),
    ("users/", "view-users"),
    ("users", "query-users"),
    ("attack-detection/", "view-users"),
    ("group", "view-users"),
)
"""The role each admin path needs, first prefix wins; the realm itself needs view-realm."""


def role_for(path: str) -> str | None:
    """The realm-management role whose absence a 403 on ``path`` (after the realm) means."""
    if not path:
        return "view-realm"
    return next((role for prefix, role in ROLE_BY_PATH if path.startswith(prefix)), None)


def _access_denied(response: httpx.Response, what: str) -> PermanentError:
    path = response.request.url.path.partition("/admin/realms/")[2].partition("/")[2]
    role = role_for(path)
    missing = (
        f"the service account lacks the realm-management role {role!r}"
        if role
        else "a realm-management role is missing"
    )
    return AccessDeniedError(
        f"{what}: HTTP 403 ({missing}; offboard config check names each): {body_excerpt(response)}",
        status=403,
    )


class AdminReader:
    """GETs JSON bodies from ``{base}/admin/realms/{realm}/…`` with retries on temporary errors."""

    def __init__(
        self, client: httpx.AsyncClient, realm_url: str, *, policy: RetryPolicy = READ_RETRIES
    ) -> None:
        self._client = client
        self.realm_url = realm_url.rstrip("/")
        self._policy = policy
        self.requests_sent = 0
        """Admin requests sent, retries included (for benchmarks and API-efficiency checks)."""

    async def read(self, path: str, shape: TypeAdapter[T], params: Query | None = None) -> T:
        """``get`` and parse; a body that does not fit ``shape`` is a ``PermanentError``."""
        return self.parse(path, await self.get(path, params), shape)

    async def get(self, path: str, params: Query | None = None) -> bytes:
        """The body of a 2xx answer to ``GET realm_url/path``; raises the ports' errors."""
        return await self.exchange(self.prepare(path, params))

    def prepare(self, path: str, params: Query | None = None) -> PreparedGet:
        """A GET built and ready to send: build it before waiting for a turn to send it."""
        url = f"{self.realm_url}/{path}" if path else self.realm_url
        # No params when there are none: httpx re-parses the whole URL to merge even an
        # empty query (about 90 µs a request).
        query = encode_query(params) if params else None
        return PreparedGet(path, self._client.build_request("GET", url, params=query))

    async def exchange(self, prepared: PreparedGet) -> bytes:
        """Send a prepared GET until it succeeds or fails for good; the whole answer's body.

        Everything between the request leaving and its answer read in full happens in here,
        retries included: a caller that must not overlap two exchanges holds its lock
        around this call only, and parses the body after letting go.
        """
        return await with_retries(lambda: self._send(prepared), self._policy)

    @staticmethod
    def parse(path: str, body: bytes, shape: TypeAdapter[T]) -> T:
        """The body read as ``shape``; one that does not fit is a ``PermanentError``."""
        try:
            return shape.validate_json(body)
        except ValidationError as error:
            raise PermanentError(
                f"Keycloak GET {path or '(realm)'} answered an unreadable body "
                f"({error.error_count()} problems, first: {_first_problem(error)})"
            ) from None

    async def _send(self, prepared: PreparedGet) -> bytes:
        self.requests_sent += 1
        # A retry sends the same request again: auth signs it afresh each time.
        response = await send(
            self._client, prepared.request, prepared.what, refine_403=_access_denied
        )
        return response.content


@dataclass(frozen=True, slots=True)
class PreparedGet:
    """A built GET of the Admin API and the words that name it in errors."""

    path: str
    request: httpx.Request

    @property
    def what(self) -> str:
        return f"Keycloak GET {self.path or '(realm)'}"


def _first_problem(error: ValidationError) -> str:
    first = error.errors(include_input=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}"


def encode_query(params: Query | None) -> httpx.QueryParams:
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
