"""What a refusal at the token endpoint means, in the words of the Keycloak admin console.

Keycloak names the cause in the OAuth error body (``error``, ``error_description``), which
never echoes the secret; each known cause gets the one setting that fixes it.
"""

from __future__ import annotations

import json

from offboard.ports import AuthenticationError, PermanentError

CLIENT_SETTINGS = "Clients → {client} → Settings → Capability config"


class TokenRefusedError(AuthenticationError):
    """Keycloak refused the client credentials; ``problem`` and ``fix`` say why and what to do."""

    def __init__(self, problem: str, fix: str, *, status: int) -> None:
        super().__init__(f"{problem}; fix: {fix}", status=status)
        self.problem = problem
        self.fix = fix


class NoTokenEndpointError(PermanentError):
    """404 at the token URL: no such realm, or ``base_url`` is not the server's root."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(f"{problem}; fix: {fix}", status=404)
        self.problem = problem
        self.fix = fix


def oauth_error(body: bytes) -> tuple[str, str]:
    """``(error, error_description)`` of an OAuth error body; empty strings when unreadable."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return "", ""
    if not isinstance(parsed, dict):
        return "", ""
    return str(parsed.get("error") or ""), str(parsed.get("error_description") or "")


def refused(status: int, body: bytes, client_id: str) -> TokenRefusedError:
    """The refusal of a client-credentials grant (400, 401 or 403), by Keycloak's cause."""
    error, description = oauth_error(body)
    settings = CLIENT_SETTINGS.format(client=client_id)
    said = f"HTTP {status} {error}: {description}" if error else f"HTTP {status}"
    lowered = description.lower()
    if "public client" in lowered:
        return TokenRefusedError(
            f"client {client_id!r} is a public client, and Keycloak gives public clients no "
            f"service account ({said})",
            f"{settings} → Client authentication: On and Service accounts roles: On, then "
            "copy the new secret from its Credentials tab",
            status=status,
        )
    if "not enabled to retrieve service account" in lowered:
        return TokenRefusedError(
            f"client {client_id!r} has no service account ({said})",
            f"{settings} → Service accounts roles: On, then assign its realm-management "
            "roles (docs/reference/keycloak-permissions.md)",
            status=status,
        )
    if error == "invalid_client":
        return TokenRefusedError(
            f"Keycloak knows no enabled client {client_id!r} in this realm ({said})",
            "check keycloak.client_id (Client ID under Clients, case-sensitive) and that the "
            "client is enabled",
            status=status,
        )
    if error == "unauthorized_client" and "credentials" in lowered:
        return TokenRefusedError(
            f"Keycloak refused the secret of client {client_id!r} ({said})",
            f"copy Clients → {client_id} → Credentials → Client secret into "
            "keycloak.client_secret_file (or OFFBOARD_KEYCLOAK__CLIENT_SECRET)",
            status=status,
        )
    return TokenRefusedError(
        f"Keycloak refused the client credentials of {client_id!r} ({said})",
        f"check keycloak.client_id, its secret, and {settings} → Client authentication and "
        "Service accounts roles: On",
        status=status,
    )


def not_found(body: bytes, token_url: str, realm: str) -> NoTokenEndpointError:
    """A 404 at the token URL: Keycloak's "Realm does not exist", or a wrong base URL."""
    error, _ = oauth_error(body)
    if error.lower() == "realm does not exist":
        return NoTokenEndpointError(
            f"Keycloak has no realm {realm!r} (HTTP 404 at {token_url})",
            "check keycloak.realm: the realm's name as the admin console's realm list shows "
            "it, case-sensitive (not its display name)",
        )
    return NoTokenEndpointError(
        f"no Keycloak token endpoint at {token_url} (HTTP 404)",
        "set keycloak.base_url to the server's root URL, as in https://sso.example.com: "
        "no /realms/... or /admin path, and no /auth (Keycloak 17 and later serve without "
        "it unless started with --http-relative-path=/auth)",
    )
