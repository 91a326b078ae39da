"""The console's OpenID Connect client in the real Keycloak test server, set up as an admin
would (docs/howto/console-login.md): a confidential client with the standard flow and PKCE
S256 required, the console's callback and post-logout URIs, two client roles, and three users
with passwords (an operator, a viewer, and someone with neither role).

Each call makes its own client and users (unique names), since the shared server keeps them.
"""

from __future__ import annotations

import dataclasses
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
    client_uuid: str = ""

    def role_mapping(self, person: Person) -> str:
        """The admin path of the person's roles of the console's client."""
        return f"users/{person.user_id}/role-mappings/clients/{self.client_uuid}"

    def role(self, name: str) -> dict[str, Any]:
        path = f"clients/{self.client_uuid}/roles/{name}"
        return dict(self.server.admin.request("GET", path).json())

    def new_person(self, kind: str, role: str | None) -> Person:
        """A user of their own, for a test that disables them or takes their role away."""
        username = f"{kind}-{uuid.uuid4().hex[:8]}"
        password = secrets.token_urlsafe(12)
        email = f"{username}@example.test"
        user_id = self.server.admin.create_user(
            username, email=email, first_name=kind.capitalize(), last_name="Test", password=password
        )
        person = Person(username, password, email, user_id)
        if role is not None:
            self.server.admin.request("POST", self.role_mapping(person), json=[self.role(role)])
        return person

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
    for role in (VIEWER_ROLE, OPERATOR_ROLE):
        admin.request("POST", f"clients/{client_uuid}/roles", json={"name": role})
    nobody = Person("", "", "", "")
    realm = ConsoleRealm(server, client_id, secret, public_url, nobody, nobody, nobody, client_uuid)
    return dataclasses.replace(
        realm,
        operator=realm.new_person("olga", OPERATOR_ROLE),
        viewer=realm.new_person("vic", VIEWER_ROLE),
        nobody=realm.new_person("nina", None),
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
