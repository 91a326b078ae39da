"""Reach the console in-process with a session opened through the login layer (no Keycloak):
for the page tests. The login itself is tested against the real Keycloak (tests/browser)."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from offboard.server.console_user import OPERATOR, VIEWER, ConsoleUser
from offboard.server.login import ConsoleLogin, build_login
from offboard.settings import Settings
from offboard.settings.console import ConsoleSettings
from offboard.store import SqlStore, open_store

OPERATOR_USER = ConsoleUser(
    "0b7e-olga", "olga", "Olga Operator", "olga@example.test", frozenset({VIEWER, OPERATOR})
)
VIEWER_USER = ConsoleUser("3c1d-vic", "vic", "Vic Viewer", "vic@example.test", frozenset({VIEWER}))


def console_settings(**changes: object) -> ConsoleSettings:
    """A configured login whose issuer is never contacted by these tests."""
    values: dict[str, object] = {
        "issuer": "http://127.0.0.1:9/realms/offboard-test",
        "client_secret": SecretStr("console-client-secret"),
        "session_secret": SecretStr("s" * 40),
    }
    values.update(changes)
    return ConsoleSettings.model_validate(values)


def console_login(store: SqlStore, **changes: object) -> ConsoleLogin:
    login = build_login(console_settings(**changes), store.engine)
    assert login is not None
    return login


def session_store(folder: Path) -> SqlStore:
    """A store of its own for the sessions of one test."""
    return open_store(folder / "sessions.sqlite3")


def console_section() -> dict[str, object]:
    """The ``[console]`` settings of :func:`console_settings`, for a whole daemon's settings."""
    return {
        "issuer": "http://127.0.0.1:9/realms/offboard-test",
        "client_secret": "console-client-secret",
        "session_secret": "s" * 40,
    }


def console_cookies(settings: Settings, user: ConsoleUser = OPERATOR_USER) -> dict[str, str]:
    """A session in the daemon's own store, opened as another replica would open it."""
    assert settings.store.path is not None
    store = open_store(settings.store.path)
    try:
        login = build_login(settings.console, store.engine)
        assert login is not None
        return login.open_session(user)
    finally:
        store.close()


def console_headers(settings: Settings, user: ConsoleUser = OPERATOR_USER) -> dict[str, str]:
    """:func:`console_cookies` as a ``Cookie`` header, for one-off requests."""
    cookies = console_cookies(settings, user)
    return {"Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items())}
