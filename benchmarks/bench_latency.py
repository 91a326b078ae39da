"""Deprovisioning latency of the daemon on a REAL Keycloak: disable call → read-back confirmed.

The daemon (``offboard run``'s wiring) runs against a real Keycloak and the Atlassian emulator
on loopback sockets, with the admin-event poller at its default interval (``daemon.
poll_interval`` from the settings, unless ``--poll-interval`` says otherwise) and no webhook.
N users in a fresh group, each with a managed Atlassian account, are linked by the start-up
reconciliation; then they are disabled one by one through the Admin API at random gaps, and
for each the time from the disable call to the journal's READBACK record confirming the
account is deactivated is measured. Prints p50, p95, p99 and max, and the daemon's own
histogram (Keycloak event time → read-back).

The server, first match wins: ``OFFBOARD_TEST_KEYCLOAK_URL`` and friends (see
tests/keycloak/fixture.py), a server started with ``scripts/keycloak start``, or a fresh one
started here and stopped at the end.

    .venv/bin/python benchmarks/bench_latency.py --users 50
    .venv/bin/python benchmarks/bench_latency.py --users 50 --poll-interval 2
    .venv/bin/python benchmarks/bench_latency.py --users 50 --webhook
    .venv/bin/python benchmarks/bench_latency.py --users 50 --json benchmarks/results/latency.json

Waves (issue 18): ``--wave N`` disables N people at once and measures each one's latency
under the running daemon, with Atlassian at its default rate limit (see _wave_latency.py);
``--emulator`` uses the Keycloak emulator instead of a real server:

    .venv/bin/python benchmarks/bench_latency.py --wave 30 \
        --json benchmarks/results/latency-wave-30-keycloak.json
    .venv/bin/python benchmarks/bench_latency.py --wave 300 --emulator \
        --json benchmarks/results/latency-wave-300.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))  # the real-server helpers live in tests/

from tests.e2e.harness import (
    DOMAIN,
    WEBHOOK_SECRET,
    atlassian_emulator,
    daemon_settings,
    eventually,
    fetch,
    running_daemon,
)
from tests.keycloak.fixture import KeycloakServer, serve_keycloak

from _wave_latency import measure_wave, print_wave
from offboard.core.journal import Phase, Status
from offboard.intake.webhooks import sign
from offboard.service.status import percentile
from offboard.settings import DaemonSettings
from offboard.settings.sources import AtlassianSettings


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50, help="users to disable (default 50)")
    default_poll = DaemonSettings().poll_interval.total_seconds()
    parser.add_argument(
        "--poll-interval",
        type=float,
        default=default_poll,
        help=f"admin-event poll interval in seconds (default: the setting's, {default_poll})",
    )
    parser.add_argument("--gap", type=float, default=0.5, help="mean seconds between disables")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--webhook",
        action="store_true",
        help="also deliver each change as a signed Phase Two webhook, as keycloak-events would",
    )
    parser.add_argument("--json", type=Path, help="also write the latencies to this JSON file")
    parser.add_argument("--wave", type=int, help="disable this many people at once instead")
    parser.add_argument("--emulator", action="store_true", help="waves: the Keycloak emulator")
    default_rate = AtlassianSettings.model_fields["rate_limit_per_second"].default
    parser.add_argument(
        "--atlassian-rate",
        type=float,
        default=default_rate,
        help=f"waves: Atlassian requests per second (default: offboard's, {default_rate:g})",
    )
    return parser.parse_args()


def create_people(server: KeycloakServer, count: int) -> tuple[str, list[tuple[str, str]]]:
    group = f"bench-latency-{uuid.uuid4().hex[:8]}"
    server.admin.request("POST", "groups", json={"name": group})
    people = []
    for n in range(count):
        name = f"{group}-{n:04d}"
        user_id = server.admin.create_user(name, email=f"{name}@{DOMAIN}")
        server.admin.add_to_group(user_id, group)
        people.append((user_id, f"{name}@{DOMAIN}"))
    return group, people


async def measure(server: KeycloakServer, options: argparse.Namespace) -> None:
    rng = random.Random(options.seed)
    group, people = await asyncio.to_thread(create_people, server, options.users)
    with atlassian_emulator() as tenant, tempfile.TemporaryDirectory() as scratch:
        accounts = {user_id: tenant.add_account(email) for user_id, email in people}
        settings = daemon_settings(
            keycloak_url=server.base_url,
            realm=server.realm,
            client_id=server.client_id,
            client_secret=server.client_secret,
            tenant=tenant,
            store=Path(scratch) / "state.db",
            group=group,
            poll_interval=options.poll_interval,
            # Latency of each leaver, not the budget: every disable must go out.
            policy={
                "budget": {
                    "hour_max_actions": 10**6,
                    "day_max_actions": 10**6,
                    "hour_max_percent": 100,
                    "day_max_percent": 100,
                }
            },
        )
        async with running_daemon(settings) as daemon:
            await eventually(lambda: daemon.reconciled, within=120)
            disabled_at: dict[str, datetime] = {}
            for user_id, _ in people:
                await asyncio.sleep(rng.expovariate(1 / options.gap))
                disabled_at[user_id] = datetime.now(UTC)
                await asyncio.to_thread(server.admin.disable_user, user_id)
                if options.webhook:
                    await deliver_webhook(daemon.url, server.realm, user_id)
            await eventually(
                lambda: all(tenant.status(a) == "inactive" for a in accounts.values()),
                within=120,
            )
            await asyncio.sleep(1)  # let the last passes record their figures
            store = daemon.assembly.daemon.passes.store  # type: ignore[attr-defined]
            confirmed = {
                record.identity_id: record.at
                for record in store.journal()
                if record.phase is Phase.READBACK and record.status is Status.VERIFIED
            }
            own = daemon.assembly.status.latency()
        latencies = [(confirmed[u] - disabled_at[u]).total_seconds() for u in disabled_at]
        calls = sum(tenant.lifecycle_calls(a) for a in accounts.values())
    report(latencies, options, calls, own.count, own.p50, own.p95, own.max)
    if options.json is not None:
        save_json(options.json, latencies, options, calls)


def save_json(path: Path, latencies: list[float], options: argparse.Namespace, calls: int) -> None:
    """The raw latencies and the options that produced them (benchmarks/report.py reads it)."""
    document = {
        "latencies_s": [round(value, 3) for value in latencies],
        "users": options.users,
        "poll_interval_s": options.poll_interval,
        "gap_s": options.gap,
        "webhook": options.webhook,
        "lifecycle_disable_calls": calls,
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1) + "\n")


async def deliver_webhook(url: str, realm: str, user_id: str) -> None:
    body = json.dumps(
        {
            "uid": str(uuid.uuid4()),
            "type": "admin.USER-UPDATE",
            "time": int(time.time() * 1000),
            "realmId": realm,
            "resourcePath": f"users/{user_id}",
        }
    ).encode()
    headers = {"X-Keycloak-Signature": sign(body, WEBHOOK_SECRET.encode())}
    response = await fetch("POST", f"{url}/webhooks/keycloak", content=body, headers=headers)
    response.raise_for_status()


def report(
    latencies: list[float],
    options: argparse.Namespace,
    calls: int,
    *own: float | int | None,
) -> None:
    def fmt(value: float | int | None) -> str:
        return "n/a" if value is None else f"{value:.2f} s"

    webhook = ", with webhooks" if options.webhook else ", no webhook"
    print(f"disables: {len(latencies)}, poll interval {options.poll_interval:g} s{webhook}, "
          f"mean gap {options.gap:g} s, lifecycle/disable calls: {calls}")  # fmt: skip
    print("disable call -> read-back confirmed:")
    for name, share in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        print(f"  {name}: {fmt(percentile(latencies, share))}")
    print(f"  max: {fmt(max(latencies))}")
    count, p50, p95, worst = own
    print(f"daemon's histogram (event time -> read-back), {count} samples: "
          f"p50 {fmt(p50)}, p95 {fmt(p95)}, max {fmt(worst)}")  # fmt: skip
    p50_ok = (percentile(latencies, 0.5) or 0) < 3
    p99_ok = (percentile(latencies, 0.99) or 0) < 10
    print(f"goal p50 < 3 s: {'met' if p50_ok else 'NOT met'}; "
          f"p99 < 10 s: {'met' if p99_ok else 'NOT met'}")  # fmt: skip


async def wave(options: argparse.Namespace, server: KeycloakServer | None) -> None:
    document = await measure_wave(options, server)
    print_wave(document)
    if options.json is not None:
        options.json.parent.mkdir(parents=True, exist_ok=True)
        options.json.write_text(json.dumps(document, indent=1) + "\n")


def main() -> None:
    options = parse()
    started = time.monotonic()
    if options.wave and options.emulator:
        asyncio.run(wave(options, None))
        print(f"(whole benchmark: {time.monotonic() - started:.0f} s)")
        return
    if options.wave:
        with contextlib.contextmanager(serve_keycloak)() as server:
            asyncio.run(wave(options, server))
        print(f"(whole benchmark: {time.monotonic() - started:.0f} s)")
        return
    with contextlib.contextmanager(serve_keycloak)() as server:
        asyncio.run(measure(server, options))
    print(f"(whole benchmark: {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
