"""The console against both emulators (over loopback), seen as a viewer or an operator.

The login layer is not part of these tests: :class:`AsUser` is a test-only middleware that
puts a :class:`ConsoleUser` and a CSRF token on the request, as the login layer does.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send
from typer.testing import CliRunner

from offboard.cli.run import Assembly, assemble
from offboard.server.console_user import OPERATOR, VIEWER, ConsoleUser
from offboard.settings import load_settings
from offboard.store import SqlStore, open_store
from tests.cli.test_run_commands import World, linked, world  # noqa: F401 - fixtures

TOKEN = "test-csrf-token"
ADA = ConsoleUser("sub-ada", "ada", "Ada Lovelace", "ada@example.com", frozenset({OPERATOR}))
VIC = ConsoleUser("sub-vic", "vic", "Vic Viewer", "vic@example.com", frozenset({VIEWER}))


class AsUser:
    """Test-only: the request comes from ``user`` (None: nobody logged in)."""

    def __init__(self, app: ASGIApp, user: ConsoleUser | None) -> None:
        self.app = app
        self.user = user

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.user is not None:
            state = scope.setdefault("state", {})
            state["console_user"] = self.user
            state["csrf_token"] = TOKEN
        await self.app(scope, receive, send)


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
    settings = load_settings(chosen.config)
    try:
        async with AsyncExitStack() as stack:
            assembly = await assemble(settings, stack, store=store)

            def client(user: ConsoleUser | None) -> httpx.AsyncClient:
                transport = httpx.ASGITransport(app=AsUser(assembly.app, user))
                return httpx.AsyncClient(transport=transport, base_url="http://console")

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
