"""The console against both emulators (over loopback), seen as a viewer or an operator.

Each client carries a session opened through the login layer (tests/server/login_helpers.py),
with the fixed CSRF token :data:`TOKEN`; the login through Keycloak is tested in tests/browser.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from offboard.cli.run import Assembly, assemble
from offboard.server.console_user import OPERATOR, VIEWER, ConsoleUser
from offboard.settings import load_settings
from offboard.store import SqlStore, open_store
from tests.cli.test_run_commands import World, linked, world  # noqa: F401 - fixtures
from tests.server.login_helpers import console_login, console_settings

TOKEN = "test-csrf-token"
ADA = ConsoleUser("sub-ada", "ada", "Ada Lovelace", "ada@example.com", frozenset({OPERATOR}))
VIC = ConsoleUser("sub-vic", "vic", "Vic Viewer", "vic@example.com", frozenset({VIEWER}))


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("OFFBOARD_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@dataclass
class Console:
    world: World
    store: SqlStore
    assembly: Assembly
    client: Callable[[ConsoleUser | None], httpx.AsyncClient]


async def console_of(chosen: World) -> AsyncIterator[Console]:
    store = open_store(chosen.store)
    settings = load_settings(chosen.config).model_copy(update={"console": console_settings()})
    login = console_login(store)  # the same store and secret: the daemon's guard knows it
    try:
        async with AsyncExitStack() as stack:
            assembly = await assemble(settings, stack, store=store)

            def client(user: ConsoleUser | None) -> httpx.AsyncClient:
                transport = httpx.ASGITransport(app=assembly.app)
                cookies = login.open_session(user, csrf_token=TOKEN) if user else {}
                return httpx.AsyncClient(
                    transport=transport, base_url="http://console", cookies=cookies
                )

            yield Console(chosen, store, assembly, client)
    finally:
        store.close()


@pytest.fixture
async def console(linked: World) -> AsyncIterator[Console]:  # noqa: F811 - the fixture
    async for made in console_of(linked):
        yield made


@pytest.fixture
def budget_of_one(linked: World) -> World:  # noqa: F811 - the fixture
    text = linked.config.read_text(encoding="utf-8")
    linked.config.write_text(text + "\n[policy.budget]\nhour_max_actions = 1\n", encoding="utf-8")
    return linked
