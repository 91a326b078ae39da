"""Keycloak as offboard's identity source: token flow, complete listings, confirmations, events."""

from offboard.adapters.keycloak.auth import ClientCredentialsAuth
from offboard.adapters.keycloak.requests import AccessDeniedError
from offboard.adapters.keycloak.scope import KeycloakScope
from offboard.adapters.keycloak.source import KeycloakSource

__all__ = ["AccessDeniedError", "ClientCredentialsAuth", "KeycloakScope", "KeycloakSource"]
