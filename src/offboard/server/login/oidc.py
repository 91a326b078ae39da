"""The OpenID Connect side of the login: authorization code with PKCE (S256), state and nonce,
with the messages built by Authlib's OAuth 2 pieces (grant URI, PKCE challenge, token request,
client authentication) sent over our own httpx client, and the tokens checked with joserfc
(signature against the realm's JWKS, issuer, audience, expiry, nonce).

Authlib's ready-made httpx client is not used: it now warns unless a fork of httpx is
installed, and the four calls here are all it would do for us.

Keycloak puts client roles under ``resource_access.<client_id>.roles``: in the access token by
default, in the ID token too when the realm's "client roles" mapper adds them there. Both
tokens are read (each verified the same way) and their roles joined.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from offboard.ports import OffboardError

if TYPE_CHECKING:  # joserfc (with cryptography, about 0.1 s) comes with the first login
    from joserfc.jwk import KeySet

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]
LEEWAY_S = 30
METADATA_TTL_S = 3600.0
SCOPE = "openid profile email"


class LoginError(OffboardError):
    """The login could not be completed; the message is safe to show (no token, no secret)."""


class LoginEndedError(LoginError):
    """Keycloak no longer vouches for the login: the user was disabled or deleted, or their
    Keycloak session ended (logged out, expired, revoked)."""


@dataclass(frozen=True)
class Identity:
    """What the verified tokens say about the person."""

    subject: str
    username: str
    name: str
    email: str | None
    client_roles: frozenset[str]
    id_token: str
    refresh_token: str = field(default="", repr=False)


class OidcClient:
    """One confidential client of one issuer (a Keycloak realm)."""

    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self._secret = client_secret
        self._redirect_uri = redirect_uri
        self._transport = transport
        self._metadata: dict[str, Any] = {}
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._lock = asyncio.Lock()

    async def authorization_url(self, state: str, nonce: str, verifier: str) -> str:
        """Where to send the browser to log in (Keycloak's login page)."""
        endpoint = str((await self._discovered())["authorization_endpoint"])
        return str(
            prepare_grant_uri(
                endpoint,
                self.client_id,
                "code",
                redirect_uri=self._redirect_uri,
                scope=SCOPE,
                state=state,
                code_challenge=create_s256_code_challenge(verifier),
                code_challenge_method="S256",
                nonce=nonce,
            )
        )

    async def redeem(self, code: str, verifier: str, nonce: str) -> Identity:
        """Exchange the code (with the PKCE verifier) and verify what comes back."""
        body = prepare_token_request(
            "authorization_code", redirect_uri=self._redirect_uri, code=code, code_verifier=verifier
        )
        tokens = await self._token_response(body, "the login code")
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise LoginError("the issuer sent no ID token (is the 'openid' scope allowed?)")
        claims = await self._verified(id_token, nonce=nonce)
        roles = _client_roles(claims, self.client_id)
        access = tokens.get("access_token")
        if isinstance(access, str) and access.count(".") == 2:
            roles |= _client_roles(await self._verified(access, nonce=None), self.client_id)
        return Identity(
            subject=str(claims["sub"]),
            username=str(claims.get("preferred_username") or claims["sub"]),
            name=str(claims.get("name") or claims.get("preferred_username") or ""),
            email=str(claims["email"]) if claims.get("email") else None,
            client_roles=frozenset(roles),
            id_token=id_token,
            refresh_token=str(tokens.get("refresh_token") or ""),
        )

    async def refresh(self, refresh_token: str, subject: str) -> Identity:
        """Ask Keycloak again, with the session's refresh token, who this is and which roles
        they hold now. ``LoginEndedError`` when Keycloak refuses (user disabled or deleted,
        session ended); ``LoginError`` when it cannot be asked."""
        body = prepare_token_request("refresh_token", refresh_token=refresh_token)
        tokens = await self._token_response(body, "the session")
        access = tokens.get("access_token")
        if not isinstance(access, str):
            raise LoginError("the issuer sent no access token on refresh")
        claims = await self._verified(access, nonce=None)
        if str(claims["sub"]) != subject:
            raise LoginEndedError("the refreshed login names someone else")
        id_token = tokens.get("id_token")
        return Identity(
            subject=subject,
            username=str(claims.get("preferred_username") or subject),
            name=str(claims.get("name") or claims.get("preferred_username") or ""),
            email=str(claims["email"]) if claims.get("email") else None,
            client_roles=frozenset(_client_roles(claims, self.client_id)),
            id_token=id_token if isinstance(id_token, str) else "",
            refresh_token=str(tokens.get("refresh_token") or refresh_token),
        )

    async def _token_response(self, body: str, what: str) -> dict[str, Any]:
        """POST a grant to the token endpoint, the client authenticated by HTTP Basic."""
        endpoint = str((await self._discovered())["token_endpoint"])
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        auth = ClientAuth(self.client_id, self._secret, "client_secret_basic")
        _, headers, body = auth.prepare("POST", endpoint, headers, body)
        try:
            async with httpx.AsyncClient(transport=self._transport, timeout=10.0) as client:
                response = await client.post(endpoint, content=body, headers=headers)
            tokens = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise LoginError(f"the token endpoint did not answer ({_kind(error)})") from None
        if response.status_code != 200 or not isinstance(tokens, dict):
            said = tokens.get("error") if isinstance(tokens, dict) else None
            if said == "invalid_grant" and what == "the session":
                raise LoginEndedError("Keycloak ended the login (invalid_grant)")
            raise LoginError(f"the issuer refused {what} ({said or response.status_code})")
        return tokens

    async def logout_url(self, id_token: str | None, after: str) -> str | None:
        """Keycloak's end-session URL (RP-initiated logout), or None if it has none."""
        try:
            endpoint = (await self._discovered()).get("end_session_endpoint")
        except LoginError:
            return None
        if not isinstance(endpoint, str):
            return None
        query = {"client_id": self.client_id, "post_logout_redirect_uri": after}
        if id_token:
            query["id_token_hint"] = id_token
        return f"{endpoint}?{urlencode(query)}"

    async def _verified(self, token: str, *, nonce: str | None) -> dict[str, Any]:
        """The token's claims once its signature, issuer, audience, times (and nonce) hold."""
        from joserfc import jwt
        from joserfc.errors import JoseError

        try:
            decoded = jwt.decode(token, await self._key_set(token), algorithms=ALGORITHMS)
            expected: dict[str, Any] = {
                "iss": {"essential": True, "value": self.issuer},
                "exp": {"essential": True},
                "sub": {"essential": True},
            }
            if nonce is not None:  # the ID token: for us, bound to this login
                expected["aud"] = {"essential": True, "value": self.client_id}
                expected["nonce"] = {"essential": True, "value": nonce}
            else:  # the access token: issued to us (its audience is the resource servers)
                expected["azp"] = {"essential": True, "value": self.client_id}
            jwt.JWTClaimsRegistry(leeway=LEEWAY_S, **expected).validate(decoded.claims)
        except (JoseError, ValueError) as error:
            raise LoginError(f"a token failed its checks ({_kind(error)})") from None
        claims = decoded.claims
        audience = claims.get("aud")
        several = isinstance(audience, list) and len(audience) > 1
        if nonce is not None and several and claims.get("azp") != self.client_id:
            raise LoginError("a token failed its checks (azp is not this client)")
        return claims

    async def _key_set(self, token: str) -> KeySet:
        """The realm's keys; fetched again once when a token names a key not yet seen
        (Keycloak rotates its keys)."""
        from joserfc.jwk import KeySet
        from joserfc.jws import extract_compact

        kid = extract_compact(token.encode()).headers().get("kid")
        async with self._lock:
            known = self._keys is not None and any(k.kid == kid for k in self._keys.keys)
            if not known:
                metadata = await self._discovered_locked()
                body = await self._get_json(str(metadata["jwks_uri"]))
                self._keys = KeySet.import_key_set(body)  # type: ignore[arg-type]
            assert self._keys is not None
            return self._keys

    async def _discovered(self) -> dict[str, Any]:
        async with self._lock:
            return await self._discovered_locked()

    async def _discovered_locked(self) -> dict[str, Any]:
        """The issuer's discovery document, cached for an hour."""
        if self._metadata and time.monotonic() - self._metadata_at < METADATA_TTL_S:
            return self._metadata
        metadata = await self._get_json(f"{self.issuer}/.well-known/openid-configuration")
        if metadata.get("issuer") != self.issuer:
            raise LoginError("the discovery document names another issuer")
        self._metadata, self._metadata_at = metadata, time.monotonic()
        return metadata

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(transport=self._transport, timeout=10.0) as client:
                response = await client.get(url)
                response.raise_for_status()
                body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise LoginError(f"cannot read {url} ({_kind(error)})") from None
        if not isinstance(body, dict):
            raise LoginError(f"{url} is not a JSON object")
        return body


def _client_roles(claims: dict[str, Any], client_id: str) -> set[str]:
    """``resource_access.<client_id>.roles``: the client roles Keycloak granted."""
    access = claims.get("resource_access")
    client = access.get(client_id) if isinstance(access, dict) else None
    roles = client.get("roles") if isinstance(client, dict) else None
    return {r for r in roles if isinstance(r, str)} if isinstance(roles, list) else set()


def _kind(error: Exception) -> str:
    """An error's kind and its short description, never the request or token behind it."""
    if isinstance(error, httpx.HTTPStatusError):
        return f"HTTP {error.response.status_code}"
    return type(error).__name__
