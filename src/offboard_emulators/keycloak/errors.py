"""Errors the emulated Keycloak answers, with the bodies the real 26.7.3 server sends.

Checked against a running server (tests/contract): unknown user → 404 `{"error": "User not
found"}`; bad or missing bearer token → 401 `{"error": "HTTP 401 Unauthorized"}`; missing
role → 403 `{"error": "HTTP 403 Forbidden"}`; bad client credentials → 401 with
`unauthorized_client`; bad `direction` or date → 400 with the server's exact sentence.
"""

from __future__ import annotations

from typing import Any


class KeycloakError(Exception):
    """An answer other than 2xx: the status and the JSON body Keycloak sends."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body


def not_found(what: str = "User not found") -> KeycloakError:
    """404 for an unknown resource (`User not found`, `Realm not found.`, …)."""
    return KeycloakError(404, {"error": what})


def unauthorized() -> KeycloakError:
    """401 for a missing, expired or unknown bearer token."""
    return KeycloakError(401, {"error": "HTTP 401 Unauthorized"})


def forbidden() -> KeycloakError:
    """403 when the token lacks the realm-management role the call needs."""
    return KeycloakError(403, {"error": "HTTP 403 Forbidden"})


def bad_request(message: str) -> KeycloakError:
    """400 with the server's message, e.g. for a bad `direction` or date."""
    return KeycloakError(400, {"error": message})


def jaxrs_not_found() -> KeycloakError:
    """What Keycloak answers when a query parameter does not parse as a number."""
    return KeycloakError(404, {"error": "HTTP 404 Not Found"})


def oauth_error(status: int, error: str, description: str) -> KeycloakError:
    """Token-endpoint errors: `{"error": ..., "error_description": ...}`."""
    return KeycloakError(status, {"error": error, "error_description": description})


def server_error() -> KeycloakError:
    """Keycloak's generic 500 body (also seen for an unknown `operationTypes` value)."""
    return KeycloakError(
        500,
        {
            "error": "unknown_error",
            "error_description": "For more on this error consult the server log.",
        },
    )
