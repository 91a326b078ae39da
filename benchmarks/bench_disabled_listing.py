"""What a page of the listing of disabled users costs a REAL Keycloak, against reads by id.

The confirmation reads the listing of disabled users (``GET users?enabled=false``) instead of
reading each leaver by id only while the listing holds at most
``confirmation.USERS_PER_READ`` users per read it spares. This measures the ground for that
constant: in a throwaway realm of ``--disabled`` disabled users (each with a few
attributes, as directory-synced users have), the median time of a page of them brief and in
full, of a read by id and of a brute-force status read, and how many listed users cost as
much as one read by id. Requests go one at a time, as the confirmation's turns do.

The server, first match wins, as in ``bench_keycloak.py``: ``OFFBOARD_TEST_KEYCLOAK_URL``
and friends, a server started with ``scripts/keycloak start``, or a fresh one started here.

    .venv/bin/python benchmarks/bench_disabled_listing.py --disabled 1000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))

from bench_keycloak import running_server
from offboard.adapters.keycloak.confirmation import USERS_PER_READ


def timed_ms(call: Callable[[], object], repeats: int) -> float:
    """The median of ``repeats`` calls, in milliseconds, after one untimed call (the
    server's first answer of a kind warms its caches and its JIT)."""
    call()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--disabled", type=int, default=1000, help="disabled users in the realm")
    parser.add_argument("--repeats", type=int, default=7, help="timed calls per page kind")
    parser.add_argument("--reads", type=int, default=200, help="timed reads by id")
    options = parser.parse_args()
    realm = f"listing-{uuid.uuid4().hex[:8]}"
    users = [
        {
            "username": f"left-{n:06d}",
            "enabled": False,
            "email": f"left-{n:06d}@example.test",
            "firstName": "Left",
            "lastName": f"Person {n}",
            "attributes": {"department": ["engineering"], "employeeNumber": [str(n)]},
        }
        for n in range(options.disabled)
    ]
    with running_server() as target:
        base = target.base_url
        headers = {"Authorization": f"Bearer {target.admin.token()}"}
        body = {"realm": realm, "enabled": True, "bruteForceProtected": True, "users": users}
        httpx.post(
            f"{base}/admin/realms", json=body, headers=headers, timeout=600
        ).raise_for_status()
        try:
            figures = measure(f"{base}/admin/realms/{realm}", target.admin.token, options)
        finally:
            headers = {"Authorization": f"Bearer {target.admin.token()}"}
            httpx.delete(f"{base}/admin/realms/{realm}", headers=headers, timeout=60)
    report(figures, options.disabled)
    return 0


def measure(
    admin_url: str, token: Callable[[], str], options: argparse.Namespace
) -> dict[str, float]:
    """Median milliseconds of each request kind, one request at a time."""
    with httpx.Client(timeout=120) as http:

        def get(path: str, **params: str | int) -> httpx.Response:
            headers = {"Authorization": f"Bearer {token()}"}
            response = http.get(f"{admin_url}/{path}", params=params, headers=headers)
            response.raise_for_status()
            return response

        page = {"enabled": "false", "first": 0, "max": options.disabled}
        ids = [u["id"] for u in get("users", **page, briefRepresentation="true").json()]
        chosen = ids[: options.reads]
        reads = iter(chosen * 3)  # the warm-up takes one more
        checks = iter(chosen * 3)
        return {
            "brief page": timed_ms(
                lambda: get("users", **page, briefRepresentation="true"), options.repeats
            ),
            "full page": timed_ms(
                lambda: get("users", **page, briefRepresentation="false"), options.repeats
            ),
            "read by id": timed_ms(lambda: get(f"users/{next(reads)}"), len(chosen)),
            "brute-force read": timed_ms(
                lambda: get(f"attack-detection/brute-force/users/{next(checks)}"), len(chosen)
            ),
        }


def report(figures: dict[str, float], disabled: int) -> None:
    for kind, ms in figures.items():
        print(f"{kind:18s} {ms:8.1f} ms")
    per_user = figures["full page"] / disabled
    print(f"a listed user (full page) costs {per_user:.3f} ms:")
    print(f"  {figures['read by id'] / per_user:.0f} listed users cost as much as a read by id,")
    both = figures["read by id"] + figures["brute-force read"]
    print(f"  {both / per_user:.0f} as much as a read by id and its brute-force read;")
    print(f"the confirmation reads the listing at up to {USERS_PER_READ} users per read spared")


if __name__ == "__main__":
    sys.exit(main())
