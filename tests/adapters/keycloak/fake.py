"""A tiny in-test Keycloak behind ``httpx.MockTransport``: just what the adapter's unit tests
need to steer (pages, counts, failures, tokens). The full emulator lives elsewhere."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

BASE = "http://127.0.0.1:18080"
REALM = "acme"
ADMIN = f"/admin/realms/{REALM}/"
SECRET = "s3cr3t-value-never-logged"


def user(n: int, *, enabled: bool = True, **extra: Any) -> dict[str, Any]:
    """A brief UserRepresentation as Keycloak 26.7 lists it."""
    return {
        "id": f"00000000-0000-0000-0000-{n:012d}",
        "username": f"user{n}",
        "email": f"User{n}@Example.test",
        "enabled": enabled,
        "createdTimestamp": 1_795_000_000_000 + n,
        **extra,
    }


@dataclass
class FakeKeycloak:
    """Users, events and knobs; records every request it answers."""

    users: list[dict[str, Any]] = field(default_factory=list)
    service_accounts: list[dict[str, Any]] = field(default_factory=list)
    admin_events: list[dict[str, Any]] = field(default_factory=list)
    user_events: list[dict[str, Any]] = field(default_factory=list)
    brute_force: dict[str, dict[str, Any]] = field(default_factory=dict)
    forbidden: set[str] = field(default_factory=set)
    """Path prefixes (after the realm) that answer 403; ``""`` is the realm itself only."""
    failing: dict[str, int] = field(default_factory=dict)
    """``path?first=N`` → how many more times to answer 503."""
    counts: list[int] = field(default_factory=list)
    """Answers for successive users/count calls (default: the real count)."""
    reads: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Successive answers for GET users/{id} (the last one repeats)."""
    issued_at: int | None = None
    """When set, tokens are JWTs whose ``iat`` is this (Keycloak's clock, epoch seconds)."""
    events_config: dict[str, Any] = field(
        default_factory=lambda: {
            "eventsEnabled": True,
            "adminEventsEnabled": True,
            "adminEventsDetailsEnabled": True,
        }
    )
    realm_attributes: dict[str, str] = field(default_factory=dict)
    user_profile: dict[str, Any] | None = None
    """``GET users/profile`` (Keycloak 24+); None answers 404, as before the user profile."""
    brute_force_protected: bool | None = None
    """The realm's ``bruteForceProtected``; None leaves the field out."""
    token_lifetime: int = 300
    tokens: int = 0
    revoked: set[str] = field(default_factory=set)
    requests: list[httpx.Request] = field(default_factory=list)
    override: Callable[[httpx.Request], httpx.Response | None] | None = None

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle_async)

    async def handle_async(self, request: httpx.Request) -> httpx.Response:
        """Yield to the event loop first, so concurrent requests really overlap."""
        await asyncio.sleep(0)
        return self.handle(request)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == f"/realms/{REALM}/protocol/openid-connect/token":
            return self._token(request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not token.startswith("token-") or token in self.revoked:
            return httpx.Response(401, json={"error": "HTTP 401 Unauthorized"})
        path = request.url.path.removeprefix(ADMIN.rstrip("/")).lstrip("/")
        if self.override is not None and (answer := self.override(request)) is not None:
            return answer
        if any(path.startswith(p) if p else path == "" for p in self.forbidden):
            return httpx.Response(403, json={"error": "HTTP 403 Forbidden"})
        key = f"{path}?first={request.url.params.get('first', '')}"
        if self.failing.get(key, 0) > 0:
            self.failing[key] -= 1
            return httpx.Response(503, text="busy")
        return self._route(path, request.url.params)

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = dict(x.split("=", 1) for x in request.content.decode().split("&"))
        if form.get("client_secret") != SECRET:
            return httpx.Response(401, json={"error": "unauthorized_client"})
        self.tokens += 1
        token = f"token-{self.tokens}"
        if self.issued_at is not None:
            token = jwt_with({"iat": self.issued_at}, head=token)  # still names the token
        body = {"access_token": token, "expires_in": self.token_lifetime}
        return httpx.Response(200, json=body)

    def _route(self, path: str, params: httpx.QueryParams) -> httpx.Response:
        if path == "users/count":
            count = len(self._enabled_filter(self.users, params))
            return httpx.Response(200, json=self.counts.pop(0) if self.counts else count)
        if path == "users":
            return self.handle_list(params)
        if path == "users/profile" and self.user_profile is not None:
            return httpx.Response(200, json=self.user_profile)
        if path.startswith("users/"):
            return self._read(path.split("/")[1])
        if path.startswith("attack-detection/brute-force/users/"):
            status = self.brute_force.get(path.rsplit("/", 1)[1], {})
            return httpx.Response(200, json={"numFailures": 0, "disabled": False, **status})
        if path in ("admin-events", "events"):
            return self._events(path, params)
        if path == "events/config":
            return httpx.Response(200, json=self.events_config)
        if path == "":
            # As to view-realm: with the id (a slim answer without it is the 403 of this call).
            realm: dict[str, Any] = {
                "id": f"{REALM}-id",
                "realm": REALM,
                "attributes": self.realm_attributes,
            }
            if self.brute_force_protected is not None:
                realm["bruteForceProtected"] = self.brute_force_protected
            return httpx.Response(200, json=realm)
        return httpx.Response(404, json={"error": "not found"})

    def handle_list(self, params: httpx.QueryParams) -> httpx.Response:
        # Like Keycloak 26.7: service accounts only in filtered listings.
        pool = self.users if "username" not in params else self.service_accounts
        pool = self._enabled_filter(pool, params)
        first, size = int(params.get("first", 0)), int(params.get("max", 100))
        page = pool[first : first + size]
        if params.get("briefRepresentation") == "true":  # like Keycloak: no attributes
            page = [{k: v for k, v in u.items() if k != "attributes"} for u in page]
        return httpx.Response(200, json=page)

    @staticmethod
    def _enabled_filter(
        pool: list[dict[str, Any]], params: httpx.QueryParams
    ) -> list[dict[str, Any]]:
        """``enabled=`` filters on the stored flag (``reads`` only change reads by id)."""
        if "enabled" not in params:
            return pool
        wanted = params["enabled"] == "true"
        return [u for u in pool if u.get("enabled") is wanted]

    def _read(self, user_id: str) -> httpx.Response:
        if user_id in self.reads:
            answers = self.reads[user_id]
            answer = answers.pop(0) if len(answers) > 1 else answers[0]
            return httpx.Response(200, json=answer)
        for candidate in self.users + self.service_accounts:
            if candidate["id"] == user_id:
                return httpx.Response(200, json=candidate)
        return httpx.Response(404, json={"error": "User not found"})

    def _events(self, path: str, params: httpx.QueryParams) -> httpx.Response:
        pool = self.admin_events if path == "admin-events" else self.user_events
        since = int(params.get("dateFrom", 0))
        chosen = sorted((e for e in pool if e["time"] >= since), key=lambda e: e["time"])
        first, size = int(params.get("first", 0)), int(params.get("max", 100))
        return httpx.Response(200, content=json.dumps(chosen[first : first + size]))

    def paths(self, prefix: str = "") -> list[str]:
        """The admin paths requested, in order."""
        found = [r.url.path.removeprefix(ADMIN.rstrip("/")).lstrip("/") for r in self.requests]
        return [p for p in found if p.startswith(prefix)]


def jwt_with(claims: dict[str, Any], head: str | None = None) -> str:
    """A JWT-shaped token carrying ``claims`` (offboard reads ``iat``, trusts nothing)."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{head or part({'alg': 'none'})}.{part(claims)}.sig"
