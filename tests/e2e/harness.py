"""End-to-end rig: the Atlassian emulator on a loopback socket, settings, and running daemons.

Shared by tests/e2e and benchmarks/bench_latency.py. The daemon runs in the caller's event loop
through ``offboard.cli.run.serve`` (the same wiring as ``offboard run``); the emulator runs in
a thread with its own loop, so nothing here shares state with the daemon except over HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from offboard.cli.run import Assembly, serve
from offboard.settings import Settings
from offboard_emulators.atlassian.app import EmulatorParts, create_app
from offboard_emulators.atlassian.fixture import seed
from offboard_emulators.atlassian.key_limit import PerKeyLimit
from offboard_emulators.atlassian.model import Account
from offboard_emulators.atlassian.state import AtlassianState
from offboard_emulators.common.ratelimit import RateLimitConfig
from offboard_emulators.common.server import free_ports, serve_in_thread

ORG_ID = "e2e00000-0000-4000-8000-000000000001"
ORG_KEY = "e2e-org-key"
OWNER_ID = "5b10a2844c20165700e2e000"
DOMAIN = "example.test"
DIRECTORY = "dir-main"
WEBHOOK_SECRET = "e2e-webhook-secret-of-32-characters"


@dataclass
class Tenant:
    """The Atlassian emulator as the tests see it."""

    state: AtlassianState
    parts: EmulatorParts
    url: str
    limit: PerKeyLimit | None = None
    """The per-key rate limit in front of the emulator, when one was asked for."""

    def add_account(self, email: str) -> str:
        """A managed, active account on the verified domain; returns its id."""
        account_id = uuid.uuid4().hex[:24]
        with self.state.lock:
            self.state.add_account(
                Account(account_id, email, email.partition("@")[0], email[:20], ORG_ID),
                {DIRECTORY: "active"},
            )
        return account_id

    def status(self, account_id: str) -> str:
        with self.state.lock:
            return self.state.account(account_id).account_status

    def lifecycle_calls(self, account_id: str, action: str = "disable") -> int:
        """Answered ``lifecycle/<action>`` requests for this account (any status)."""
        suffix = f"/users/{account_id}/manage/lifecycle/{action}"
        return sum(
            1
            for entry in self.parts.log.entries()
            if entry.method == "POST" and entry.path.endswith(suffix)
        )


@contextlib.contextmanager
def atlassian_emulator(rate_limit: float | None = None) -> Iterator[Tenant]:
    """An org with one verified domain, one directory and an admin key owned by an org admin.

    ``rate_limit``: requests per second the key may make in all (``PerKeyLimit``), for
    benchmarks at Atlassian's rate limit; None leaves only the emulator's per-route limits."""
    state = AtlassianState()
    seed(
        state,
        {
            "orgs": [
                {
                    "id": ORG_ID,
                    "name": "E2E Corp",
                    "domains": [
                        {"id": "dom", "name": DOMAIN, "claim_status": "verified",
                         "claim_type": "dns"},
                    ],
                    "directories": [{"id": DIRECTORY, "name": "E2E directory"}],
                    "api_keys": [{"id": "key-admin", "secret": ORG_KEY,
                                  "owner_account_id": OWNER_ID}],
                    "accounts": [
                        {"account_id": OWNER_ID, "email": f"owner@{DOMAIN}",
                         "platform_roles": ["atlassian/org-admin"],
                         "directories": {DIRECTORY: "active"}},
                    ],
                }
            ]
        },
    )  # fmt: skip
    parts = EmulatorParts(state)
    app: Any = create_app(parts=parts)
    limit = None
    if rate_limit is not None:
        config = RateLimitConfig(capacity=max(1, int(rate_limit)), period_seconds=1)
        app = limit = PerKeyLimit(app, config)
    with serve_in_thread(app) as url:
        yield Tenant(state, parts, url, limit)


def daemon_settings(
    *,
    keycloak_url: str,
    realm: str,
    client_id: str,
    client_secret: str,
    tenant: Tenant,
    store: Path,
    group: str | None = None,
    poll_interval: float = 1.0,
    reconcile_interval: float = 3600.0,
    reactivate: bool = False,
    policy: dict[str, Any] | None = None,
    extra: dict[str, dict[str, Any]] | None = None,
) -> Settings:
    """Settings for one daemon on free loopback ports; ``policy`` keys replace the defaults,
    ``extra`` adds keys per section."""
    listen_port, webhook_port = free_ports(2)
    data: dict[str, Any] = {
        "keycloak": {
            "base_url": keycloak_url,
            "realm": realm,
            "client_id": client_id,
            "client_secret": client_secret,
            "scope_groups": [f"/{group}"] if group else [],
        },
        "atlassian": {
            "base_url": tenant.url,
            "org_id": ORG_ID,
            "directory_id": DIRECTORY,
            "api_key": ORG_KEY,
            "rate_limit_per_second": 200,
        },
        "policy": {
            "domains": [DOMAIN],
            "reactivate": reactivate,
            "thresholds": {"max_source_drop_percent": 100, "max_deactivations": 200},
        },
        "store": {"path": str(store)},
        "daemon": {
            "poll_interval": f"{poll_interval}s",
            "reconcile_interval": f"{reconcile_interval}s",
            "listen_host": "127.0.0.1",
            "listen_port": listen_port,
            "webhook_port": webhook_port,
            "webhook_secret": WEBHOOK_SECRET,
            "lease_ttl": "3s",
        },
    }
    data["policy"].update(policy or {})
    for section, values in (extra or {}).items():
        data[section] = {**data.get(section, {}), **values}
    return Settings(**data)


@dataclass
class RunningDaemon:
    settings: Settings
    assembly: Assembly

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.daemon.listen_port}"

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.daemon.webhook_port}/webhooks/keycloak"

    @property
    def reconciled(self) -> bool:
        return self.assembly.status.last_complete_full is not None


@contextlib.asynccontextmanager
async def running_daemon(
    settings: Settings, holder: str | None = None
) -> AsyncIterator[RunningDaemon]:
    """Run ``offboard run``'s wiring in this loop until the block ends."""
    stop = asyncio.Event()
    built: list[Assembly] = []
    task = asyncio.create_task(serve(settings, stop=stop, holder=holder, on_ready=built.append))
    try:
        await eventually(lambda: bool(built) or task.done(), within=30)
        if task.done():
            task.result()  # raise what went wrong
        yield RunningDaemon(settings, built[0])
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


async def eventually(check: Callable[[], bool], *, within: float, step: float = 0.05) -> float:
    """Wait until ``check()`` holds; returns the seconds it took. Fails after ``within``."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not check():
        if loop.time() - start > within:
            raise AssertionError(f"condition not reached within {within} s")
        await asyncio.sleep(step)
    return loop.time() - start


async def fetch(method: str, url: str, **options: Any) -> httpx.Response:
    """One request to a daemon served by this same event loop (so never a blocking client)."""
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.request(method, url, **options)
