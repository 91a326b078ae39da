"""Shared fixtures. Logic lives next to its owner (tests/keycloak/ for the real server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.keycloak.fixture import KeycloakServer, serve_keycloak


@pytest.fixture(scope="session")
def keycloak_server() -> Iterator[KeycloakServer]:
    """A real Keycloak server with the offboard-test realm, started lazily (see fixture.py)."""
    yield from serve_keycloak()
