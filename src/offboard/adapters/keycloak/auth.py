"""The OAuth 2 client-credentials flow as an ``httpx.Auth``: one cached token, renewed early.

Keycloak gives service accounts no refresh token by default, so renewing means asking for a
new token. The secret only ever travels in the token request body; it is never logged or
put into an error message.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from urllib.parse import unquote

import httpx
from pydantic import SecretStr, ValidationError

from offboard.adapters.keycloak.refusals import not_found, refused
from offboard.adapters.keycloak.skew import keycloak_behind
from offboard.adapters.keycloak.wire import TokenResponse
from offboard.ports import PermanentError, TemporaryError

RENEW_AT_FRACTION = 0.9
"""Renew once this share of ``expires_in`` has passed, so no request carries a dying token."""


class ClientCredentialsAuth(httpx.Auth):
    """Bearer auth with a client-credentials token; one retry with a fresh token on 401."""

    requires_response_body = True

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._monotonic = monotonic
        self._wall = wall
        self.keycloak_behind: float | None = None
        """Seconds Keycloak's clock runs behind ours, from the last token (see ``skew``)."""
        self._token: SecretStr | None = None
        self._renew_at = 0.0
        self.tokens_issued = 0
        """How many tokens this auth obtained (for tests and benchmarks)."""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._token is None or self._monotonic() >= self._renew_at:
            self._store(self._check_token_response((yield self._token_request())))
        self._sign(request)
        response = yield request
        if response.status_code == httpx.codes.UNAUTHORIZED:
            # The token may have been revoked or the server restarted: try once more, fresh.
            self._store(self._check_token_response((yield self._token_request())))
            self._sign(request)
            yield request

    def forget_token(self) -> None:
        """Drop the cached token; the next request fetches a new one."""
        self._token = None

    def _token_request(self) -> httpx.Request:
        form = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._client_secret.get_secret_value(),
        }
        return httpx.Request("POST", self._token_url, data=form)

    def _check_token_response(self, response: httpx.Response) -> TokenResponse:
        status = response.status_code
        if status in (400, 401, 403):
            raise refused(status, response.content, self._client_id)
        if status == httpx.codes.NOT_FOUND:
            realm = unquote(self._token_url.rpartition("/realms/")[2].partition("/")[0])
            raise not_found(response.content, self._token_url, realm)
        if status == 429 or status >= 500:
            raise TemporaryError(f"Keycloak token endpoint answered HTTP {status}", status=status)
        if status != 200:
            raise PermanentError(f"Keycloak token endpoint answered HTTP {status}", status=status)
        try:
            return TokenResponse.model_validate_json(response.content)
        except ValidationError as error:
            raise PermanentError(
                f"Keycloak token endpoint answered an unreadable token ({error.error_count()} "
                "problems)",
                status=status,
            ) from None

    def _store(self, token: TokenResponse) -> None:
        self._token = token.access_token
        behind = keycloak_behind(token.access_token.get_secret_value(), self._wall())
        self.keycloak_behind = behind if behind is not None else self.keycloak_behind
        self._renew_at = self._monotonic() + token.expires_in * RENEW_AT_FRACTION
        self.tokens_issued += 1

    def _sign(self, request: httpx.Request) -> None:
        assert self._token is not None  # set just before by _store
        request.headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"

    async def fetch(self, client: httpx.AsyncClient) -> None:
        """Obtain a token now (for the self-check); raises the ports' errors on refusal."""
        try:
            response = await client.send(self._token_request(), auth=None)
        except httpx.TransportError as error:
            detail = str(error) or type(error).__name__
            raise TemporaryError(
                f"cannot connect to the Keycloak token endpoint {self._token_url}: "
                f"{type(error).__name__}: {detail}"
            ) from None
        self._store(self._check_token_response(response))
