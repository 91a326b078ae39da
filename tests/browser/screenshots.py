"""Screenshots of the console for the docs: logged in as an operator through the real Keycloak,
a hold with its people showing, at 1280 px (a desktop) and 390 px (a phone).

    scripts/screenshots            # writes docs/figures/console-1280.png and console-390.png

Reuses the browser tests' rig (tests/browser/rig.py): the Keycloak test server (started by
scripts/keycloak, or reused), the Atlassian emulator, `offboard run`'s wiring.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

from tests.browser.conftest import SESSION_SECRET
from tests.browser.rig import ConsoleRig, chromium_missing, console_rig, launch, log_in
from tests.keycloak.fixture import serve_keycloak

FIGURES = Path(__file__).parents[2] / "docs" / "figures"
WIDTHS = {1280: (900, 1, True), 390: (844, 2, False)}
"""Width in CSS pixels: (height, device scale factor, whole page); the phone at its usual
density and only its first screen (the whole page is many screens long)."""


def shoot(browser: Browser, rig: ConsoleRig, width: int) -> Path:
    height, scale, whole = WIDTHS[width]
    context = browser.new_context(
        viewport={"width": width, "height": height}, device_scale_factor=scale
    )
    try:
        page = context.new_page()
        log_in(page, rig, rig.realm.operator)
        page.get_by_test_id("hold").wait_for()
        target = FIGURES / f"console-{width}.png"
        page.screenshot(path=str(target), full_page=whole)
        return target
    finally:
        context.close()


def main() -> int:
    missing = chromium_missing()
    if missing is not None:
        print(missing, file=sys.stderr)
        return 1
    servers = serve_keycloak()
    keycloak = next(servers)
    try:
        with (
            tempfile.TemporaryDirectory() as folder,
            console_rig(keycloak, Path(folder), SESSION_SECRET) as rig,
            sync_playwright() as playwright,
        ):
            browser = launch(playwright)
            for width in WIDTHS:
                print(shoot(browser, rig, width))
            browser.close()
    finally:
        servers.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
