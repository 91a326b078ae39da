"""offboard's own cost per HTTP request, against plain httpx on the same emulators.

The emulators run in their own processes (``_harness``), so ``time.process_time`` of this
process is what offboard's client stack spends per request: request building, auth, the
rate limiter, the circuit breaker, retries, error mapping, pool upkeep and body parsing.
Each case sends ``--requests`` requests one at a time, then the same number four at a time
(the apply's concurrency), first through offboard's real adapter objects, then through a
plain ``httpx.AsyncClient`` doing the same request and ``response.json()``:

* ``keycloak read``: a Keycloak user read by id (``AdminReader.read`` with ``USER``);
* ``atlassian read``: a v2 directory user read by id (``OrgAdapter.read_account``);
* ``atlassian disable``: a ``lifecycle/disable`` (``OrgAdapter.execute``; repeats on an
  account already inactive are answered like the first).

    .venv/bin/python benchmarks/bench_http_overhead.py --requests 2000
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))

from _harness import (
    CLIENT_ID,
    CLIENT_SECRET,
    DIRECTORY,
    ORG_ID,
    ORG_KEY,
    REALM,
    Emulators,
    emulators,
)

Call = Callable[[int], Awaitable[object]]
CONCURRENCY = 4
"""Requests in flight at once in the concurrent runs (the apply's own concurrency)."""


async def timed(call: Call, count: int, at_once: int) -> tuple[float, float]:
    """(CPU µs, wall µs) per request for ``count`` calls, ``at_once`` in flight."""
    queue = iter(range(count))

    async def worker() -> None:
        for n in queue:
            await call(n)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(at_once)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return cpu / count * 1e6, wall / count * 1e6


def present(world: Emulators) -> list[str]:
    """Keycloak ids of the people still there (a read of a deleted one is a 404)."""
    gone = set(world.world.deleted)
    return [ident for n, ident in enumerate(world.world.identity_ids) if n not in gone]


async def offboard_calls(world: Emulators) -> tuple[dict[str, Call], Callable[[], Awaitable[None]]]:
    from pydantic import SecretStr

    from offboard.adapters.atlassian import AtlassianDirectory
    from offboard.adapters.keycloak.source import KeycloakSource
    from offboard.adapters.keycloak.wire import USER
    from offboard.core.accounts import AccountId
    from offboard.core.identities import IdentityId
    from offboard.core.plan import Action, Rule
    from offboard.core.policy import ActionKind

    source = KeycloakSource(world.keycloak_url, REALM, CLIENT_ID, SecretStr(CLIENT_SECRET))
    directory = AtlassianDirectory(
        org_id=ORG_ID, org_key=ORG_KEY, base_url=world.atlassian_url, directory_id=DIRECTORY,
        rate_per_second=1e6, burst=100,
    )  # fmt: skip
    identities, accounts = present(world), world.world.account_ids

    def disable(n: int) -> Action:
        account = accounts[n % len(accounts)]
        return Action(ActionKind.DEACTIVATE, IdentityId(identities[n % len(identities)]),
                      AccountId(account), None, Rule.IDENTITY_DISABLED,
                      "Deactivated: disabled in Keycloak")  # fmt: skip

    async def close() -> None:
        await source.aclose()
        await directory.aclose()

    calls: dict[str, Call] = {
        "keycloak read": lambda n: source.reader.read(
            f"users/{identities[n % len(identities)]}", USER
        ),
        "atlassian read": lambda n: directory.org.read_account(
            AccountId(accounts[n % len(accounts)])
        ),
        "atlassian disable": lambda n: directory.execute(disable(n)),
    }
    return calls, close


async def plain_calls(world: Emulators) -> tuple[dict[str, Call], Callable[[], Awaitable[None]]]:
    token_url = f"{world.keycloak_url}/realms/{REALM}/protocol/openid-connect/token"
    form = {"grant_type": "client_credentials", "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET}  # fmt: skip
    async with httpx.AsyncClient() as once:
        token = (await once.post(token_url, data=form)).json()["access_token"]
    keycloak = httpx.AsyncClient(
        base_url=f"{world.keycloak_url}/admin/realms/{REALM}",
        headers={"Authorization": f"Bearer {token}"},
    )
    atlassian = httpx.AsyncClient(
        base_url=world.atlassian_url, headers={"Authorization": f"Bearer {ORG_KEY}"}
    )
    identities, accounts = present(world), world.world.account_ids
    users = f"/admin/v2/orgs/{ORG_ID}/directories/{DIRECTORY}/users"

    async def json_of(response: Awaitable[httpx.Response]) -> object:
        answer = await response
        answer.raise_for_status()
        return answer.json() if answer.content else None

    async def close() -> None:
        await keycloak.aclose()
        await atlassian.aclose()

    calls: dict[str, Call] = {
        "keycloak read": lambda n: json_of(
            keycloak.get(f"/users/{identities[n % len(identities)]}")
        ),
        "atlassian read": lambda n: json_of(
            atlassian.get(f"{users}/{accounts[n % len(accounts)]}")
        ),
        "atlassian disable": lambda n: json_of(
            atlassian.post(
                f"/users/{accounts[n % len(accounts)]}/manage/lifecycle/disable",
                json={"message": "Deactivated: disabled in Keycloak"},
            )
        ),
    }
    return calls, close


async def measure(world: Emulators, count: int, rounds: int) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    results: dict[tuple[str, str, int], list[tuple[float, float]]] = {}
    for _ in range(rounds):  # interleaved, so a busy moment on the shared cores hits both
        for stack, make in (("offboard", offboard_calls), ("httpx", plain_calls)):
            calls, close = await make(world)
            try:
                for case, call in calls.items():
                    for n in range(20):  # warm: token, connections, lazy imports
                        await call(n)
                    for at_once in (1, CONCURRENCY):
                        figures = await timed(call, count, at_once)
                        results.setdefault((case, stack, at_once), []).append(figures)
            finally:
                await close()
    for (case, stack, at_once), runs in results.items():
        cpu = statistics.median(r[0] for r in runs)
        wall = statistics.median(r[1] for r in runs)
        rows.append((case, stack, str(at_once), f"{cpu:,.0f}", f"{wall:,.0f}"))
    return rows


def table(rows: Sequence[tuple[str, ...]]) -> str:
    head = ("request", "client", "at once", "CPU µs/req", "wall µs/req")
    lines = [" | ".join(head), " | ".join("---" for _ in head)]
    lines += [" | ".join(row) for row in sorted(rows)]
    return "\n".join(f"| {line} |" for line in lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--requests", type=int, default=2000, help="requests per case and run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument("--people", type=int, default=1000, help="seeded users and accounts")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder, emulators(args.people, 50, Path(folder)) as world:
        rows = asyncio.run(measure(world, args.requests, args.rounds))
    print(f"{args.requests} requests per case, median of {args.rounds} interleaved rounds; "
          "CPU of this process only (the emulators run in their own)")  # fmt: skip
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
