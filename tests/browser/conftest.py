"""Browser fixtures: Debian's Chromium under Playwright, and the console with a hold.

Without Chromium the browser tests skip with the reason; with ``CI=true`` they fail
(scripts/test installs it)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, sync_playwright

from tests.browser.rig import ConsoleRig, chromium_missing, console_rig, launch
from tests.keycloak.fixture import KeycloakServer

SESSION_SECRET = "browser-test-session-secret-of-40-chars"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    missing = chromium_missing()
    if missing is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs Chromium for the browser tests: {missing}", pytrace=False)
        pytest.skip(missing)
    with sync_playwright() as playwright:
        opened = launch(playwright)
        yield opened
        opened.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh profile per test: no cookie from an earlier test."""
    opened = browser.new_context(viewport={"width": 1280, "height": 900})
    opened.set_default_timeout(30_000)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def rig(
    keycloak_server: KeycloakServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleRig]:
    folder = tmp_path_factory.mktemp("console")
    with console_rig(keycloak_server, folder, SESSION_SECRET) as running:
        yield running
