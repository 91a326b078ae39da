"""The console as an operator meets it: `offboard run`'s wiring on a loopback port with the
login configured against the real Keycloak test server, the Atlassian emulator, a hold with
people waiting, and Debian's Chromium driven by Playwright.

Shared by the browser tests (tests/browser/test_console_browser.py) and scripts/screenshots.
The daemon runs in a thread with its own event loop, so the tests drive the browser with
Playwright's plain (sync) API.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, Page, Playwright

from offboard.cli.run import Assembly, serve
from offboard.core.holds import DEPROVISIONING, Hold
from offboard.settings import Settings
from offboard.store import open_store
from offboard_emulators.common.server import free_port
from tests.browser.console_realm import ConsoleRealm, Person, console_realm
from tests.e2e.harness import DOMAIN, Tenant, atlassian_emulator, daemon_settings
from tests.keycloak.fixture import KeycloakServer

CHROMIUM = os.environ.get("OFFBOARD_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    # Headless in a container as root; no calls home (this machine's network is closed, and
    # each refused connection would slow the start).
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HELD = 2
"""People disabled beyond the budget of one: they wait on the hold."""


def chromium_missing() -> str | None:
    """Why the browser cannot run here, or None."""
    if shutil.which(CHROMIUM) is None:
        return f"no Chromium at {CHROMIUM} (apt-get install chromium; scripts/test does it)"
    return None


def launch(playwright: Playwright) -> Browser:
    """Debian's Chromium, never a browser Playwright downloads; a fresh profile each time."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)


class DaemonThread:
    """`offboard run`'s wiring (cli.run.serve) in a thread with its own loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._ready = threading.Event()
        self._assembly: list[Assembly] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, name="daemon", daemon=True)

    def __enter__(self) -> DaemonThread:
        self._thread.start()
        if not self._ready.wait(60) or self._error:
            raise RuntimeError(f"the daemon did not start: {self._error}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.daemon.listen_port}"

    @property
    def reconciled(self) -> bool:
        return bool(self._assembly) and self._assembly[0].status.last_complete_full is not None

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as error:  # reported to the thread that waits for the start
            self._error.append(error)
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()

        def ready(assembly: Assembly) -> None:
            self._assembly.append(assembly)
            self._ready.set()

        await serve(self.settings, stop=self._stop, on_ready=ready)


@dataclass
class ConsoleRig:
    """A running console with a hold: who can log in, who waits, where the store is."""

    realm: ConsoleRealm
    tenant: Tenant
    daemon: DaemonThread
    store: Path
    waiting: list[Person] = field(default_factory=list)
    accounts: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.daemon.url

    def hold(self) -> Hold | None:
        opened = open_store(self.store)
        try:
            return opened.active_hold(DEPROVISIONING)
        finally:
            opened.close()

    def inactive(self) -> list[str]:
        """The usernames of the waiting people whose Atlassian account is now inactive."""
        return [p.username for p in self.waiting if self.tenant.status(self.accounts[p.user_id])
                == "inactive"]  # fmt: skip


def wait_for(check: object, within: float, what: str) -> None:
    """Poll ``check()`` (a callable) until true, at most ``within`` seconds."""
    import time

    deadline = time.monotonic() + within
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {within} s")
        time.sleep(0.1)


@contextlib.contextmanager
def console_rig(
    keycloak: KeycloakServer, folder: Path, session_secret: str
) -> Iterator[ConsoleRig]:
    """Start everything and make a hold: 1 + HELD people leave against a budget of one."""
    port = free_port()
    realm = console_realm(keycloak, f"http://127.0.0.1:{port}")
    group = f"console-{uuid.uuid4().hex[:8]}"
    keycloak.admin.request("POST", "groups", json={"name": group})
    store = folder / "state.db"
    with atlassian_emulator() as tenant:
        leavers: list[Person] = []
        accounts: dict[str, str] = {}
        for n in range(1 + HELD):
            name = f"leaver{n}-{uuid.uuid4().hex[:6]}"
            email = f"{name}@{DOMAIN}"
            user_id = keycloak.admin.create_user(
                name, email=email, first_name=f"Leaver{n}", last_name="Waiting"
            )
            keycloak.admin.add_to_group(user_id, group)
            accounts[user_id] = tenant.add_account(email)
            leavers.append(Person(name, "", email, user_id))
        settings = daemon_settings(
            keycloak_url=keycloak.base_url,
            realm=keycloak.realm,
            client_id=keycloak.client_id,
            client_secret=keycloak.client_secret,
            tenant=tenant,
            store=store,
            group=group,
            poll_interval=0.5,
            policy={"budget": {"hour_max_actions": 1}},
            extra={
                "daemon": {"listen_port": port},
                "console": realm.console_section(session_secret),
            },
        )
        with DaemonThread(settings) as daemon:
            rig = ConsoleRig(realm, tenant, daemon, store, accounts=accounts)
            wait_for(lambda: daemon.reconciled, 60, "the first reconciliation")
            for person in leavers:
                keycloak.admin.disable_user(person.user_id)

            def held() -> bool:
                hold = rig.hold()
                return hold is not None and len(hold.waiting) == HELD

            wait_for(held, 90, "the hold with its people waiting")
            hold = rig.hold()
            assert hold is not None
            ids = {w.identity_id for w in hold.waiting}
            rig.waiting = [p for p in leavers if p.user_id in ids]
            yield rig


def log_in(page: Page, rig: ConsoleRig, person: Person, path: str = "/") -> None:
    """Open the console, get sent to Keycloak's login page, type, and come back."""
    page.goto(rig.url + path)
    page.wait_for_selector("#kc-form-login")
    page.fill("#username", person.username)
    page.fill("#password", person.password)
    page.click("#kc-login")
    page.wait_for_url(f"{rig.url}{path}*")
