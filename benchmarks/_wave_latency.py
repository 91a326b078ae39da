"""Waves of leavers under the running daemon (``bench_latency.py --wave N``).

N people, each with a managed Atlassian account, are linked by the daemon's start-up
reconciliation; then all N are disabled at once (the Keycloak emulator: one admin event per
person, as an admin's bulk action or a directory sync makes; a real Keycloak: N Admin API
calls in a row). Each person's latency runs from their own change in Keycloak to the
journal's READBACK record confirming their account is deactivated.

The Atlassian emulator answers at most ``--atlassian-rate`` requests per second for the key
(default: offboard's own default client rate, Atlassian's documented 10 per second), and
offboard's client is set to the same rate. The budget and the blast-radius thresholds are
raised above the wave: this measures the wave, not the hold (tests/e2e covers the hold).

The API minimum of a wave is what any tool must send to Atlassian at that rate: one
``lifecycle/disable`` per person, and the account ids found by email a hundred at a time
(one v2 search per 100 people). The goal is p99 <= minimum / rate + 5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import re
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.e2e.harness import Tenant, atlassian_emulator, daemon_settings, eventually
from tests.e2e.harness import running_daemon as run_daemon
from tests.e2e.waves import EmulatedPeople

from offboard.core.journal import Phase, Status
from offboard.service.status import percentile
from offboard.store import SqlStore
from offboard_emulators.common.server import serve_in_thread
from offboard_emulators.keycloak.app import create_app
from offboard_emulators.keycloak.emulator import EmulatorState

REALM_FILE = Path(__file__).parents[1] / "tests/keycloak/realm-offboard-test.json"
SECRET = "bench-wave-secret"  # noqa: S105 - the emulator's client secret, loopback only
LOOKUPS_PER_REQUEST = 100


def api_minimum(people: int) -> int:
    """Atlassian requests a wave of ``people`` needs at least: a disable each, and the
    account ids found by email a hundred at a time."""
    return people + math.ceil(people / LOOKUPS_PER_REQUEST)


@dataclass
class World:
    """Where the people live and how they are disabled."""

    keycloak: dict[str, Any]
    """``keycloak_url``, ``realm``, ``client_id``, ``client_secret``, and ``group``."""
    tenant: Tenant
    accounts: dict[str, str]
    """Keycloak id → Atlassian account id, everyone in the wave."""
    disable: Callable[[list[str]], dict[str, datetime]]
    """Disables everyone given at once; returns when each change was made."""


@contextlib.asynccontextmanager
async def emulated_world(count: int, rate: float) -> AsyncIterator[World]:
    state = EmulatorState.from_seed_file(REALM_FILE, {"OFFBOARD_TEST_CLIENT_SECRET": SECRET})
    with serve_in_thread(create_app(state)) as url, atlassian_emulator(rate) as tenant:
        people = EmulatedPeople(state, tenant)
        people.add(count)

        def disable(ids: list[str]) -> dict[str, datetime]:
            at = datetime.now(UTC)
            people.disable(ids)  # one admin event per person, all within milliseconds
            return dict.fromkeys(ids, at)

        keycloak = {"keycloak_url": url, "realm": "offboard-test", "client_id": "offboard",
                    "client_secret": SECRET}  # fmt: skip
        yield World(keycloak, tenant, people.accounts, disable)


def daemon_store(daemon: Any) -> SqlStore:
    """The store of a running daemon's passes (the port does not name it; the SQL one has it)."""
    store = getattr(daemon.assembly.daemon.passes, "store", None)
    assert isinstance(store, SqlStore), "the daemon's passes keep no SQL store"
    return store


@contextlib.asynccontextmanager
async def real_world(server: Any, count: int, rate: float) -> AsyncIterator[World]:
    from bench_latency import create_people  # the real-server helpers live there

    group, people = await asyncio.to_thread(create_people, server, count)
    with atlassian_emulator(rate) as tenant:
        accounts = {user_id: tenant.add_account(email) for user_id, email in people}

        def disable(ids: list[str]) -> dict[str, datetime]:
            done = {}
            for user_id in ids:
                done[user_id] = datetime.now(UTC)
                server.admin.disable_user(user_id)
            return done

        keycloak = {"keycloak_url": server.base_url, "realm": server.realm,
                    "client_id": server.client_id, "client_secret": server.client_secret,
                    "group": group}  # fmt: skip
        yield World(keycloak, tenant, accounts, disable)


async def measure_wave(options: argparse.Namespace, server: Any | None) -> dict[str, Any]:
    """One wave; returns the JSON document ``report.py`` reads."""
    size, rate = options.wave, options.atlassian_rate
    world_of = emulated_world(size, rate) if server is None else real_world(server, size, rate)
    async with world_of as world, _scratch() as scratch:
        group = world.keycloak.pop("group", None)
        settings = daemon_settings(
            **world.keycloak,
            tenant=world.tenant,
            store=scratch / "state.db",
            group=group,
            poll_interval=options.poll_interval,
            policy={
                "budget": {"hour_max_actions": 10**6, "day_max_actions": 10**6,
                           "hour_max_percent": 100, "day_max_percent": 100},
                "thresholds": {"max_deactivations": 10 * size, "max_deactivation_percent": 100,
                               "max_source_drop_percent": 100},
            },
            extra={"atlassian": {"rate_limit_per_second": rate}},
        )  # fmt: skip
        async with run_daemon(settings) as daemon:
            await eventually(lambda: daemon.reconciled, within=600)
            before = len(world.tenant.parts.log.entries())
            started = time.monotonic()
            accounts = world.accounts
            changed = await asyncio.to_thread(world.disable, list(accounts))
            await eventually(
                lambda: all(world.tenant.status(a) == "inactive" for a in accounts.values()),
                within=120 + 12 * api_minimum(size) / rate,
                step=0.5,
            )
            wall = time.monotonic() - started
            store = daemon_store(daemon)
            # An account may show inactive before its read-back is journaled (a disable whose
            # answer was lost is retried after a pause): wait for every verified read-back.
            await eventually(
                lambda: set(accounts) <= set(_confirmed(store.journal())), within=60, step=1
            )
            await asyncio.sleep(1)  # let the last waves record their figures
            journal = list(store.journal())
            confirmed = _confirmed(journal)
            sizes = list(daemon.assembly.daemon.queues.sizes)
            sent = world.tenant.parts.log.entries()[before:]
            requests = len(sent)
    latencies = [(confirmed[u] - changed[u]).total_seconds() for u in accounts]
    minimum = api_minimum(size)
    goal = minimum / rate + 5
    p99 = percentile(latencies, 0.99) or 0.0
    return {
        "kind": "wave",
        "target": "emulator" if server is None else "keycloak",
        "wave": size,
        "users": size,
        "latencies_s": [round(value, 3) for value in latencies],
        "atlassian_rate": rate,
        "atlassian_requests": requests,
        "atlassian_request_kinds": _kinds(sent),
        "atlassian_429": world.tenant.limit.refused if world.tenant.limit else 0,
        "api_minimum_requests": minimum,
        "api_minimum_s": round(minimum / rate, 1),
        "goal_p99_s": round(goal, 1),
        "p99_ratio_to_goal": round(p99 / goal, 2),
        "wave_sizes": sizes,
        "phases_s": _phases(journal, changed),
        "wall_s": round(wall, 1),
        "poll_interval_s": options.poll_interval,
        "webhook": False,
        "lifecycle_disable_calls": sum(world.tenant.lifecycle_calls(a) for a in accounts.values()),
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


@contextlib.asynccontextmanager
async def _scratch() -> AsyncIterator[Path]:
    with tempfile.TemporaryDirectory() as scratch:
        yield Path(scratch)


def _kinds(sent: list[Any]) -> dict[str, int]:
    """Requests per method and path, ids replaced by ``{id}``."""
    kinds: dict[str, int] = {}
    for entry in sent:
        path = re.sub(r"/[0-9a-f]{24}(?=/|$)", "/{id}", entry.path)
        key = f"{entry.method} {path}"
        kinds[key] = kinds.get(key, 0) + 1
    return dict(sorted(kinds.items(), key=lambda item: -item[1]))


def _phases(records: list[Any], changed: dict[str, datetime]) -> dict[str, dict[str, float]]:
    """Where each person's time went, from the journal: the change to the intent (the event
    read, the wave planned, a sending slot), the intent to the outcome (the disable, with
    any wait for the rate limit), the outcome to the verified read-back (the settle, the
    wait for company, the search). p50 and p99 of each, in seconds."""
    first: dict[tuple[str, Phase], datetime] = {}
    for record in records:  # the wave's records: not the start-up reconciliation's links
        if record.identity_id in changed and record.at >= changed[record.identity_id]:
            first.setdefault((record.identity_id, record.phase), record.at)
    steps = {"change to intent": (None, Phase.INTENT),
             "intent to outcome": (Phase.INTENT, Phase.OUTCOME),
             "outcome to read-back": (Phase.OUTCOME, Phase.READBACK)}  # fmt: skip
    phases = {}
    for name, (start, end) in steps.items():
        spans = [
            (
                first[(who, end)] - (changed[who] if start is None else first[(who, start)])
            ).total_seconds()
            for who in changed
            if (who, end) in first and (start is None or (who, start) in first)
        ]
        if spans:
            phases[name] = {"p50": round(percentile(spans, 0.5) or 0, 2),
                            "p99": round(percentile(spans, 0.99) or 0, 2)}  # fmt: skip
    return phases


def _confirmed(records: Any) -> dict[str, datetime]:
    return {
        record.identity_id: record.at
        for record in records
        if record.phase is Phase.READBACK and record.status is Status.VERIFIED
    }


def print_wave(document: dict[str, Any]) -> None:
    values = document["latencies_s"]
    print(f"wave of {document['wave']} ({document['target']}), Atlassian at "
          f"{document['atlassian_rate']:g} req/s, poll {document['poll_interval_s']:g} s; "
          f"waves planned: {document['wave_sizes']}")  # fmt: skip
    print("Atlassian requests by kind:", document["atlassian_request_kinds"])
    print(f"Atlassian requests: {document['atlassian_requests']:,} (API minimum "
          f"{document['api_minimum_requests']:,} = {document['api_minimum_s']} s at the rate); "
          f"lifecycle/disable calls: {document['lifecycle_disable_calls']}; "
          f"answered 429 by the rate limit: {document['atlassian_429']}")  # fmt: skip
    for name, cut in document.get("phases_s", {}).items():
        print(f"  {name}: p50 {cut['p50']:.1f} s, p99 {cut['p99']:.1f} s")
    cells = ", ".join(f"{name} {percentile(values, q):.1f} s"
                      for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)))  # fmt: skip
    print(f"Keycloak change -> verified deactivation: {cells}, max {max(values):.1f} s")
    verdict = "met" if document["p99_ratio_to_goal"] <= 1 else "NOT met"
    print(
        f"goal p99 <= API minimum + 5 s = {document['goal_p99_s']} s: {verdict} "
        f"(p99 / goal = {document['p99_ratio_to_goal']}); whole wave {document['wall_s']} s"
    )
