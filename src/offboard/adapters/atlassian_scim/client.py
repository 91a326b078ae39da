"""The SCIM adapter: find SCIM users, read them, and set ``active`` with a directory key.

Plain httpx through the shared helpers (limiter, error mapping, bounded retries) rather
than ``scim2_client``: Atlassian deviates from RFC 7644 where we need it (its OpenAPI
spells PATCH's array ``operations``, its own account-id extension, ``Failure`` bodies on 401/403),
and the shared limiter and retry policy must govern every call. ``scim2_models.Error``
parses the documented ``ScimError`` bodies.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial

import httpx
from pydantic import ValidationError
from scim2_models import Error as ScimErrorBody

from offboard.adapters.answers import parse_answer
from offboard.adapters.atlassian_scim.refusals import refusal_words
from offboard.adapters.atlassian_scim.wire import (
    Failure,
    ScimListResponse,
    ScimUser,
    active_patch,
    next_start,
)
from offboard.adapters.http import RateLimiter, RetryPolicy, send, with_retries
from offboard.core.accounts import ScimLink
from offboard.ports import (
    AuthenticationError,
    CheckResult,
    NotFoundError,
    OffboardError,
    OperationResult,
    PermanentError,
)

SCIM_JSON = "application/scim+json"
PAGE_SIZE = 100
"""Atlassian returns at most 100 users a page by default (KB); the server may choose less."""
AUTH_MESSAGE = (
    "Atlassian SCIM directory key expired or wrong (HTTP 401): regenerate it under "
    "Security → Identity providers → (directory) → Regenerate API key"
)


def describe_error(response: httpx.Response) -> str:
    """``scimType: detail`` of a ScimError, or the ``error`` of a Failure body."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return ""
    try:
        failure = Failure.model_validate(body)
        return failure.error
    except ValidationError:
        pass
    try:
        error = ScimErrorBody.model_validate(body)
    except ValidationError:
        return ""
    return f"{error.scim_type or error.status}: {error.detail or ''}".rstrip(": ")


def _refine_403(response: httpx.Response, what: str) -> PermanentError:
    return PermanentError(f"{what}: HTTP 403: {describe_error(response)}", status=403)


class ScimAdapter:
    """One Atlassian SCIM directory, reached with that directory's own key."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        directory_id: str,
        *,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.client = client
        self.directory_id = directory_id
        self.limiter = limiter
        self.retry = retry or RetryPolicy()
        self._base = f"/scim/directory/{directory_id}"

    async def _call(self, build: Callable[[], httpx.Request], what: str) -> httpx.Response:
        async def attempt() -> httpx.Response:
            return await send(
                self.client, build(), what, limiter=self.limiter, refine_403=_refine_403,
                explain=refusal_words,
            )  # fmt: skip

        try:
            return await with_retries(attempt, self.retry)
        except AuthenticationError:
            raise AuthenticationError(f"{what}: {AUTH_MESSAGE}", status=401) from None

    def _list(self, params: dict[str, str | int]) -> httpx.Request:
        return self.client.build_request("GET", f"{self._base}/Users", params=params)

    async def _filter(self, attribute: str, value: str) -> list[ScimUser]:
        quoted = value.replace("\\", "\\\\").replace('"', '\\"')
        params: dict[str, str | int] = {"filter": f'{attribute} eq "{quoted}"'}
        what = f"SCIM lookup by {attribute}"
        response = await self._call(lambda: self._list(params), what)
        return list(parse_answer(ScimListResponse, response, what).resources)

    async def find_by_user_name(self, user_name: str) -> list[ScimUser]:
        return await self._filter("userName", user_name)

    async def find_by_external_id(self, external_id: str) -> list[ScimUser]:
        return await self._filter("externalId", external_id)

    async def get_user(self, scim_user_id: str) -> ScimUser | None:
        """The SCIM user, or None on 404 (deleted SCIM records answer 404 for good)."""
        path = f"{self._base}/Users/{scim_user_id}"
        try:
            response = await self._call(
                lambda: self.client.build_request("GET", path), f"read SCIM user {scim_user_id}"
            )
        except NotFoundError:
            return None
        return parse_answer(ScimUser, response, f"read SCIM user {scim_user_id}")

    async def users(self) -> list[ScimUser]:
        """Every user of the directory, paging ``startIndex``/``count`` as the server sizes."""
        found: list[ScimUser] = []
        start = 1
        while True:
            params: dict[str, str | int] = {"startIndex": start, "count": PAGE_SIZE}
            what = f"list SCIM users from {start}"
            response = await self._call(partial(self._list, params), what)
            page = parse_answer(ScimListResponse, response, what)
            found.extend(page.resources)
            following = next_start(
                start, page.start_index, len(page.resources), page.total_results, what
            )
            if following is None:
                return found
            start = following

    async def links(self) -> dict[str, ScimLink]:
        """Atlassian account id → its SCIM link, for users linked to an account."""
        return {
            user.account_id: ScimLink(self.directory_id, user.id, user.active)
            for user in await self.users()
            if user.account_id
        }

    async def set_active(self, scim_user_id: str, active: bool) -> OperationResult:
        """PATCH ``replace active``; idempotent (already in state → ``changed=False``)."""
        current = await self.get_user(scim_user_id)
        if current is None:
            raise NotFoundError(f"SCIM user {scim_user_id} not found in {self.directory_id}")
        if current.active is active:
            return OperationResult(http_status=200, changed=False, detail="already in state")
        path = f"{self._base}/Users/{scim_user_id}"
        response = await self._call(
            lambda: self.client.build_request(
                "PATCH",
                path,
                content=json.dumps(active_patch(active)),
                headers={"Content-Type": SCIM_JSON},
            ),
            f"set SCIM user {scim_user_id} active={active}",
        )
        return OperationResult(http_status=response.status_code, changed=True, detail="patched")

    async def self_check(self) -> list[CheckResult]:
        """The directory key works: ``ServiceProviderConfig`` is readable."""
        path = f"{self._base}/ServiceProviderConfig"
        try:
            await self._call(lambda: self.client.build_request("GET", path), "read SCIM config")
        except OffboardError as exc:
            fix = "regenerate the directory key" if isinstance(exc, PermanentError) else ""
            return [CheckResult("atlassian.scim", False, str(exc), fix or "retry later")]
        return [CheckResult("atlassian.scim", True, f"directory {self.directory_id} answers")]
