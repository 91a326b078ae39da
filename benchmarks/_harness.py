"""Shared rig for the reconciliation and fault benchmarks: seeded emulators in their own
processes, a fresh store with the links pre-seeded, and a counting transport.

The world: ``people`` users ``user-NNNNNN@example.test`` in the Keycloak emulator, each with a
managed active Atlassian account of the same email, all linked in the store (as a first
linking run would leave them; that run is not timed). Every ``leaver_every``-th person is a
leaver, alternately disabled and deleted in Keycloak before the run.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import socket
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).parents[1]
REALM_FILE = ROOT / "tests/keycloak/realm-offboard-test.json"
REALM = "offboard-test"
CLIENT_ID = "offboard"
CLIENT_SECRET = "bench-client-secret"  # noqa: S105 (the emulated realm's)
ORG_ID = "be0c0000-0000-4000-8000-000000000001"
ORG_KEY = "bench-org-key"
OWNER_ID = "5b10a2844c20165700be0c00"
DOMAIN = "example.test"
DIRECTORY = "dir-main"
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class World:
    """Who is who: Keycloak ids, Atlassian ids (same order) and the leavers by index."""

    identity_ids: list[str]
    account_ids: list[str]
    disabled: list[int]
    deleted: list[int]
    prefix: str = "user"

    @property
    def leavers(self) -> list[int]:
        return sorted(self.disabled + self.deleted)

    def email(self, index: int) -> str:
        return f"{self.prefix}-{index:06d}@{DOMAIN}"


def sides_toml(kc_url: str, at_url: str, atlassian_rate: float | None = None) -> str:
    """The ``[keycloak]``, ``[atlassian]`` and ``[policy]`` head every benchmark's
    configuration shares: the seeded emulators, their credentials, the domain.
    ``atlassian_rate``: offboard's own pace; None: the settings' highest, unless a benchmark
    measures it at a tenant's limit."""
    return f"""
[keycloak]
base_url = "{kc_url}"
realm = "{REALM}"
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"

[atlassian]
base_url = "{at_url}"
org_id = "{ORG_ID}"
directory_id = "{DIRECTORY}"
api_key = "{ORG_KEY}"
key_owner_account_id = "{OWNER_ID}"
rate_limit_per_second = {atlassian_rate or 1000:g}

[policy]
domains = ["{DOMAIN}"]
"""


def leaver_split(people: int, leaver_every: int) -> tuple[list[int], list[int]]:
    """Every ``leaver_every``-th person leaves: even ones disabled, odd ones deleted."""
    leavers = list(range(leaver_every - 1, people, leaver_every))
    return leavers[0::2], leavers[1::2]


def keycloak_state(people: int, leaver_every: int, leave: bool = True) -> tuple[Any, World]:
    """The Keycloak emulator's state (service-account clients only, plus bulk users).

    With ``leave=False`` the leavers are chosen but still enabled (see :func:`make_leave`).
    """
    from offboard_emulators.keycloak.emulator import EmulatorState
    from offboard_emulators.keycloak.seed import add_bulk_users

    text = REALM_FILE.read_text().replace("${OFFBOARD_TEST_CLIENT_SECRET}", CLIENT_SECRET)
    data = json.loads(text)
    data["users"] = [u for u in data["users"] if u["username"].startswith("service-account-")]
    state = EmulatorState.from_seed_json(data)
    add_bulk_users(state.realm, people, prefix="user", domain=DOMAIN)
    ids = [_seeded(state, n) for n in range(people)]
    world = World(ids, [], *leaver_split(people, leaver_every))
    if leave:
        make_leave(state, world)
    return state, world


def _seeded(state: Any, number: int) -> str:
    user = state.realm.user_by_username(f"user-{number:06d}")
    assert user is not None, f"user {number} was not seeded"
    return str(user.id)


def make_leave(state: Any, world: World) -> None:
    """Disable and delete the world's leavers in the Keycloak emulator's state."""
    for index in world.disabled:
        state.realm.user(world.identity_ids[index]).enabled = False
    for index in world.deleted:
        state.realm.remove_user(world.identity_ids[index])


def atlassian_parts(people: int, prefix: str = "user") -> tuple[Any, list[str]]:
    """The Atlassian emulator: one org, domain, directory and admin key, ``people`` accounts."""
    from offboard_emulators.atlassian.app import EmulatorParts
    from offboard_emulators.atlassian.fixture import generate_accounts, seed
    from offboard_emulators.atlassian.state import AtlassianState
    from offboard_emulators.common.ratelimit import RateLimitConfig

    state = AtlassianState()
    org = {
        "id": ORG_ID,
        "name": "Bench Corp",
        "domains": [{"id": "dom", "name": DOMAIN, "claim_status": "verified", "claim_type": "dns"}],
        "directories": [{"id": DIRECTORY, "name": "Bench directory"}],
        "api_keys": [{"id": "key-admin", "secret": ORG_KEY, "owner_account_id": OWNER_ID}],
        "accounts": [
            {"account_id": OWNER_ID, "email": f"owner@{DOMAIN}",
             "platform_roles": ["atlassian/org-admin"], "directories": {DIRECTORY: "active"}},
        ],
    }  # fmt: skip
    seed(state, {"orgs": [org]})
    ids = generate_accounts(state, ORG_ID, people, domain=DOMAIN, directory_id=DIRECTORY,
                            prefix=f"{prefix}-")  # fmt: skip
    parts = EmulatorParts(state)
    parts.limiter.configure(RateLimitConfig(enabled=False))
    return parts, ids


def _serve_keycloak(port: int, people: int, leaver_every: int, manifest: str) -> None:
    import uvicorn

    from offboard_emulators.keycloak.app import create_app

    state, world = keycloak_state(people, leaver_every)
    Path(manifest).write_text(json.dumps(world.__dict__))
    uvicorn.run(create_app(state), host=LOOPBACK, port=port, log_level="warning",
                access_log=False)  # fmt: skip


def _serve_atlassian(port: int, people: int, manifest: str, prefix: str = "user") -> None:
    import uvicorn

    from offboard_emulators.atlassian.app import create_app

    parts, ids = atlassian_parts(people, prefix)
    Path(manifest).write_text(json.dumps(ids))
    uvicorn.run(create_app(parts=parts), host=LOOPBACK, port=port, log_level="warning",
                access_log=False)  # fmt: skip


@contextmanager
def child_process(target: Any, args: tuple[Any, ...], port: int) -> Iterator[int]:
    """``target(*args)`` in a spawned process, once it listens on ``port``; yields its pid."""
    child = multiprocessing.get_context("spawn").Process(target=target, args=args, daemon=True)
    child.start()
    deadline = time.monotonic() + 600
    try:
        while True:
            try:
                socket.create_connection((LOOPBACK, port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or not child.is_alive():
                    raise RuntimeError("an emulator did not start") from None
                time.sleep(0.2)
        assert child.pid is not None  # started above
        yield child.pid
    finally:
        child.terminate()
        child.join(10)
        if child.is_alive():
            child.kill()


@dataclass(frozen=True)
class Emulators:
    keycloak_url: str
    atlassian_url: str
    world: World
    pids: tuple[int, ...] = ()


def cpu_seconds(pids: tuple[int, ...]) -> float:
    """User plus system CPU time used so far by these processes (Linux ``/proc``)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / ticks


@contextmanager
def atlassian_emulator(
    people: int, scratch: Path, prefix: str = "user"
) -> Iterator[tuple[str, list[str], int]]:
    """The Atlassian emulator alone in its own process: its URL, the account ids, its pid."""
    from offboard_emulators.common.server import free_port

    port, manifest = free_port(), scratch / f"atlassian-{prefix}.json"
    with child_process(_serve_atlassian, (port, people, str(manifest), prefix), port) as pid:
        yield f"http://{LOOPBACK}:{port}", json.loads(manifest.read_text()), pid


@contextmanager
def emulators(people: int, leaver_every: int, scratch: Path) -> Iterator[Emulators]:
    """Both emulators, each in its own process on a loopback port, seeded with the world."""
    from offboard_emulators.common.server import free_port

    kc_port, kc_manifest = free_port(), scratch / "keycloak.json"
    kc_args = (kc_port, people, leaver_every, str(kc_manifest))
    with child_process(_serve_keycloak, kc_args, kc_port) as kc_pid, \
         atlassian_emulator(people, scratch) as (atlassian_url, account_ids, at_pid):  # fmt: skip
        seeded = World(**json.loads(kc_manifest.read_text()))
        world = World(seeded.identity_ids, account_ids, seeded.disabled, seeded.deleted)
        yield Emulators(f"http://{LOOPBACK}:{kc_port}", atlassian_url, world, (kc_pid, at_pid))


def seed_links(store_path: Path, world: World) -> None:
    """Every person linked, as a first (untimed) linking run would have left them."""
    from offboard.core.accounts import AccountId
    from offboard.core.identities import IdentityId
    from offboard.core.links import Link
    from offboard.store import open_store

    now = datetime.now(UTC)
    store = open_store(store_path)
    try:
        store.upsert_links(
            Link(IdentityId(identity), AccountId(account), world.email(n), now)
            for n, (identity, account) in enumerate(
                zip(world.identity_ids, world.account_ids, strict=True)
            )
        )
    finally:
        store.close()


_KINDS = [
    ("token", re.compile(r"/protocol/openid-connect/token$")),
    ("count", re.compile(r"/users/count$")),
    ("brute-force", re.compile(r"/attack-detection/brute-force/users/")),
    ("user groups", re.compile(r"/users/[^/]+/groups$")),
    ("list page", re.compile(r"/admin/realms/[^/]+/users$")),
    ("read by id", re.compile(r"/admin/realms/[^/]+/users/[^/]+$")),
    ("search page", re.compile(r"/users/search$")),
    ("manageability", re.compile(r"/manage$")),
    ("lifecycle", re.compile(r"/manage/lifecycle/")),
    ("membership", re.compile(r"/(suspend|restore)$")),
    ("account read", re.compile(r"/admin/v2/orgs/[^/]+/(directories/[^/]+/)?users/[^/]+$")),
    ("profile read", re.compile(r"/manage/profile$")),
]


def request_kind(path: str) -> str:
    """A short name for what a request was for (the first pattern that matches)."""
    return next((name for name, pattern in _KINDS if pattern.search(path)), "other")


@dataclass
class CountingTransport(httpx.AsyncBaseTransport):
    """Counts requests by kind (and 429/5xx answers) on their way to a real socket."""

    inner: httpx.AsyncBaseTransport = field(default_factory=httpx.AsyncHTTPTransport)
    kinds: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.kinds[request_kind(request.url.path)] += 1
        response = await self.inner.handle_async_request(request)
        self.statuses[response.status_code] += 1
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()

    @property
    def total(self) -> int:
        return sum(self.kinds.values())
