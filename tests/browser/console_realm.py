"""The console's OpenID Connect client in the real Keycloak test server, set up as an admin
would (docs/howto/console-login.md): a confidential client with the standard flow and PKCE
S256 required, the console's callback and post-logout URIs, two client roles, and three users
with passwords (an operator, a viewer, and someone with neither role).

Each call makes its own client and users (unique names), since the shared server keeps them.
"""

from __future__ import annotations

import html
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from tests.keycloak.fixture import KeycloakServer

VIEWER_ROLE = "offboard-viewer"
OPERATOR_ROLE = "offboard-operator"


@dataclass(frozen=True)
class Person:
    username: str
    password: str
    email: str
    user_id: str


@dataclass(frozen=True)
class ConsoleRealm:
    """Where the console logs in, and who may."""

    server: KeycloakServer
    client_id: str
    client_secret: str
    public_url: str
    operator: Person
    viewer: Person
    nobody: Person

    def __repr__(self) -> str:  # the client secret stays out of pytest output
        return f"ConsoleRealm(client_id={self.client_id!r}, public_url={self.public_url!r})"

    @property
    def issuer(self) -> str:
        return f"{self.server.base_url}/realms/{self.server.realm}"

    def console_section(self, session_secret: str) -> dict[str, Any]:
        """The ``[console]`` settings for this client."""
        return {
            "issuer": self.issuer,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "public_url": self.public_url,
            "viewer_role": VIEWER_ROLE,
            "operator_role": OPERATOR_ROLE,
            "session_secret": session_secret,
        }


def console_realm(server: KeycloakServer, public_url: str) -> ConsoleRealm:
    """Register the console's client, its roles and three users in the test realm."""
    admin = server.admin
    tag = uuid.uuid4().hex[:8]
    client_id = f"offboard-console-{tag}"
    secret = secrets.token_urlsafe(24)
    client = {
        "clientId": client_id,
        "protocol": "openid-connect",
        "publicClient": False,
        "secret": secret,
        "standardFlowEnabled": True,
        "implicitFlowEnabled": False,
        "directAccessGrantsEnabled": False,
        "serviceAccountsEnabled": False,
        "redirectUris": [f"{public_url}/auth/callback"],
        "webOrigins": [],
        "attributes": {
            "pkce.code.challenge.method": "S256",
            "post.logout.redirect.uris": f"{public_url}/auth/logged-out",
        },
    }
    created = admin.request("POST", "clients", json=client)
    client_uuid = created.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    roles = {}
    for role in (VIEWER_ROLE, OPERATOR_ROLE):
        admin.request("POST", f"clients/{client_uuid}/roles", json={"name": role})
        roles[role] = admin.request("GET", f"clients/{client_uuid}/roles/{role}").json()

    def person(kind: str, role: str | None) -> Person:
        username = f"{kind}-{tag}"
        password = secrets.token_urlsafe(12)
        email = f"{username}@example.test"
        user_id = admin.create_user(
            username, email=email, first_name=kind.capitalize(), last_name=tag, password=password
        )
        if role is not None:
            mapping = f"users/{user_id}/role-mappings/clients/{client_uuid}"
            admin.request("POST", mapping, json=[roles[role]])
        return Person(username, password, email, user_id)

    return ConsoleRealm(
        server,
        client_id,
        secret,
        public_url,
        operator=person("olga", OPERATOR_ROLE),
        viewer=person("vic", VIEWER_ROLE),
        nobody=person("nina", None),
    )


def keycloak_client() -> httpx.AsyncClient:
    """An HTTP client that keeps Keycloak's cookies as a browser does. Keycloak marks them
    ``Secure``; browsers send those to http://127.0.0.1 (a trustworthy origin), httpx's jar
    does not, so they are added by hand."""
    client = httpx.AsyncClient(timeout=30)

    async def with_cookies(request: httpx.Request) -> None:
        kept = "; ".join(f"{c.name}={c.value}" for c in client.cookies.jar)
        if kept:
            request.headers["Cookie"] = kept

    client.event_hooks["request"] = [with_cookies]
    return client


async def log_in_without_browser(
    keycloak: httpx.AsyncClient, login_url: str, person: Person
) -> httpx.Response:
    """Fill in Keycloak's login form as a browser would; returns Keycloak's redirect back to
    the console's callback (for the fast, browser-less tests of the flow)."""
    page = await keycloak.get(login_url, follow_redirects=True)
    page.raise_for_status()
    action = re.search(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"', page.text)
    assert action is not None, "Keycloak's login form was not found"
    form = {"username": person.username, "password": person.password, "credentialId": ""}
    return await keycloak.post(html.unescape(action[1]), data=form)
