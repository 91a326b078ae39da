"""Shared fixtures. Logic lives next to its owner (tests/keycloak/ for the real server)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import structlog

from tests.keycloak.fixture import KeycloakServer, extend_timeouts, serve_keycloak


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Real-server tests may wait for the server to start (2-5 minutes on two busy cores)."""
    extend_timeouts(items)


@pytest.fixture(scope="session")
def keycloak_server() -> Iterator[KeycloakServer]:
    """A real Keycloak server with the offboard-test realm, started lazily (see fixture.py)."""
    yield from serve_keycloak()


@pytest.fixture(autouse=True)
def _isolated_logging() -> Iterator[None]:
    """structlog's configuration and bound context are process-global: a CLI test configures
    it to print to its runner's stderr, which is closed once that test ends. Reset both so no
    test logs through another test's configuration."""
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


@pytest.fixture(autouse=True)
def _no_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's or a runner's own proxy (HTTPS_PROXY, NO_PROXY...) changes which
    transport our clients get: each test sets the proxy variables it means, none leaks in."""
    for name in list(os.environ):
        if name.lower() in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
            monkeypatch.delenv(name)
