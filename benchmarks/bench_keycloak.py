"""Keycloak snapshot benchmark on a REAL server: offboard's ``KeycloakSource`` against
python-keycloak's ``get_users()`` (the peer baseline), same realm, same users.

Reported per run: wall time, HTTP requests, users per second, peak Python memory
(tracemalloc, measured in a separate run so it does not slow the timed ones), for each page
size tried; then the peer's figures, the throughput ratio, and whether both returned the
same user ids (python-keycloak's unfiltered listing leaves service accounts out, as Keycloak
does; offboard adds them back, flagged, so they are compared apart).

The server, first match wins: ``OFFBOARD_TEST_KEYCLOAK_URL`` and friends (see
tests/keycloak/fixture.py), a server started with ``scripts/keycloak start``, or a fresh one
started here and stopped at the end. Missing ``bench-<n>`` users are created first (reused on
later runs against the same server).

    .venv/bin/pip install python-keycloak      # the peer; not a project dependency
    .venv/bin/python benchmarks/bench_keycloak.py --users 10000
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import importlib.util
import os
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).parents[1]))  # the real-server helpers live in tests/

from tests.keycloak import server as kc_server
from tests.keycloak.admin import KeycloakAdmin

from offboard.adapters.keycloak import KeycloakSource

ENV = "OFFBOARD_TEST_KEYCLOAK_"


@dataclass(frozen=True)
class Target:
    base_url: str
    realm: str
    client_id: str
    client_secret: str
    admin: KeycloakAdmin


@dataclass
class Run:
    seconds: float
    requests: int
    users: int
    ids: frozenset[str]
    service_accounts: frozenset[str] = frozenset()
    peak_mib: float = 0.0
    """Peak traced memory from the start until the whole result was in hand (when tracing)."""

    @property
    def users_per_second(self) -> float:
        return self.users / self.seconds


@contextmanager
def running_server() -> Iterator[Target]:
    """A running server: from the environment, hand-started, or started (and stopped) here."""
    if url := os.environ.get(ENV + "URL"):
        env = {k: os.environ.get(ENV + k, "") for k in ("REALM", "CLIENT_ID", "CLIENT_SECRET")}
        admin = KeycloakAdmin(
            url,
            env["REALM"] or kc_server.REALM,
            os.environ.get(ENV + "ADMIN_USERNAME", "admin"),
            os.environ.get(ENV + "ADMIN_PASSWORD", ""),
        )
        yield Target(
            url.rstrip("/"),
            admin.realm,
            env["CLIENT_ID"] or kc_server.CLIENT_ID,
            env["CLIENT_SECRET"],
            admin,
        )
        return
    info = kc_server.load_state()
    started = info is None
    if info is None:
        print("starting a Keycloak server (60–120 s)…", flush=True)
        info = kc_server.start_server()
    admin = KeycloakAdmin(
        info.base_url, info.realm, info.admin_username, info.admin_password, info.login_client_id
    )
    try:
        yield Target(info.base_url, info.realm, info.client_id, info.client_secret, admin)
    finally:
        admin.close()
        if started:
            kc_server.stop_server(info)


def ensure_users(admin: KeycloakAdmin, count: int, prefix: str = "bench") -> None:
    """Create the ``{prefix}-{n:06d}`` users that are missing (idempotent across runs)."""
    listed = admin.request(
        "GET",
        "users",
        params={"username": f"{prefix}-", "briefRepresentation": "true", "max": count * 2},
    ).json()
    present = {user["username"] for user in listed}
    missing = [f"{prefix}-{n:06d}" for n in range(count) if f"{prefix}-{n:06d}" not in present]
    if not missing:
        return
    print(f"creating {len(missing)} users…", flush=True)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(admin.create_user, missing))
    print(f"  created in {time.perf_counter() - started:.0f} s", flush=True)


async def offboard_snapshot(target: Target, page_size: int, concurrency: int) -> Run:
    started = time.perf_counter()
    async with KeycloakSource(
        target.base_url,
        target.realm,
        target.client_id,
        SecretStr(target.client_secret),
        page_size=page_size,
        concurrency=concurrency,
    ) as source:
        snapshot = await source.snapshot()
        seconds = time.perf_counter() - started
        peak = traced_peak()
        requests = source.reader.requests_sent + source.auth.tokens_issued
    if not snapshot.complete:
        raise RuntimeError(f"incomplete snapshot: {snapshot.problems}")
    robots = frozenset(i.id for i in snapshot.identities if i.is_service_account)
    people = frozenset(i.id for i in snapshot.identities) - robots
    return Run(seconds, requests, len(snapshot.identities), people, robots, peak)


def peer_snapshot(target: Target) -> Run:
    from keycloak import KeycloakAdmin as PeerAdmin
    from keycloak import KeycloakOpenIDConnection

    started = time.perf_counter()
    connection = KeycloakOpenIDConnection(
        server_url=target.base_url,
        realm_name=target.realm,
        user_realm_name=target.realm,
        client_id=target.client_id,
        client_secret_key=target.client_secret,
        verify=True,
    )
    sent = 0

    def count(response: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal sent
        sent += 1
        return response

    connection._s.hooks["response"].append(count)
    users = PeerAdmin(connection=connection).get_users()
    seconds = time.perf_counter() - started
    peak = traced_peak()
    connection._s.close()
    # Its token request goes through the keycloak_openid session, not _s: add it.
    return Run(seconds, sent + 1, len(users), frozenset(u["id"] for u in users), peak_mib=peak)


def median_run(runs: list[Run]) -> Run:
    return sorted(runs, key=lambda run: run.seconds)[len(runs) // 2]


def traced_peak() -> float:
    """Peak traced memory so far, in MiB (0 when not tracing)."""
    return tracemalloc.get_traced_memory()[1] / 2**20 if tracemalloc.is_tracing() else 0.0


def snapshot_run(target: Target, page_size: int, concurrency: int) -> Run:
    return asyncio.run(offboard_snapshot(target, page_size, concurrency))


def peak_memory_mib(call: Callable[[], Run]) -> float:
    """Peak Python memory of one read, taken as soon as its result is complete, so that the
    event loop's teardown (which allocates a few MiB of its own) is not counted."""
    tracemalloc.start()
    try:
        return call().peak_mib
    finally:
        tracemalloc.stop()


def row(label: str, run: Run, memory: float) -> str:
    return (
        f"{label:<34} {run.seconds:7.2f} s {run.requests:6d} req "
        f"{run.users_per_second:9.0f} users/s {memory:7.1f} MiB"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--page-sizes", default="100,250,500,1000")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    if importlib.util.find_spec("keycloak") is None:
        print("the peer baseline needs python-keycloak: .venv/bin/pip install python-keycloak")
        return 2
    sizes = [int(size) for size in args.page_sizes.split(",")]
    with running_server() as target:
        ensure_users(target.admin, args.users)
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        print(f"\nrealm {target.realm!r} at {target.base_url}, median of {args.repeats} runs")
        print(f"load average before: {load} on {os.cpu_count()} cores\n")
        best: tuple[Run, float, str] | None = None
        for size in sizes:
            runs = [
                asyncio.run(offboard_snapshot(target, size, args.concurrency))
                for _ in range(args.repeats)
            ]
            memory = peak_memory_mib(
                functools.partial(snapshot_run, target, size, args.concurrency)
            )
            run = median_run(runs)
            label = f"offboard page {size}, {args.concurrency} in flight"
            print(row(label, run, memory), flush=True)
            if best is None or run.seconds < best[0].seconds:
                best = (run, memory, label)
        peer_runs = [peer_snapshot(target) for _ in range(args.repeats)]
        peer_memory = peak_memory_mib(lambda: peer_snapshot(target))
        peer = median_run(peer_runs)
        print(row("python-keycloak get_users()", peer, peer_memory))
    assert best is not None
    ours, memory, label = best
    ratio = ours.users_per_second / peer.users_per_second
    same = ours.ids == peer.ids
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"\nload average after: {load}")
    print(f"fastest: {label}")
    print(f"throughput ratio offboard / python-keycloak: {ratio:.2f}x (goal ≥ 2x)")
    print(f"peak memory ratio: {memory / peer_memory:.2f}x")
    print(
        f"same user ids: {same} ({len(ours.ids)} people; offboard also lists "
        f"{len(ours.service_accounts)} service account(s), flagged)"
    )
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
