"""What honouring the proxy variables costs: building a client's transport, and per request.

Without proxy variables ``pooled_transport()`` returns the pool itself, as before: the only
cost is reading the variables once per transport built. With them, each request first asks
``ProxyEnvironment.route`` which way it goes (the ``no_proxy`` rules, the loopback check);
this prints that decision's CPU per request for a URL sent through the proxy, one that
``no_proxy`` sends direct, and a loopback one, next to the transport's construction.

    .venv/bin/python benchmarks/bench_proxy_routing.py --times 100000
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from functools import partial

import httpx

from offboard.adapters.proxies import ProxyRouting, proxy_environment
from offboard.adapters.transport import pooled_transport

PROXY_VARIABLES = {
    "HTTPS_PROXY": "http://svc:secret@proxy.corp:3128",
    "NO_PROXY": ".corp.example,keycloak.internal:8443,10.0.0.0/8,sso.example.com",
}
URLS = {
    "via proxy": "https://api.atlassian.com/admin/v2/orgs/o/directories/d/users/u",
    "no_proxy match": "https://keycloak.internal:8443/admin/realms/staff/users/u",
    "loopback": "http://127.0.0.1:8080/admin/v1/orgs",
}


def per_call(call: Callable[[], object], times: int) -> float:
    """CPU µs per call of ``call`` (median of three runs)."""
    runs = []
    for _ in range(3):
        start = time.process_time()
        for _ in range(times):
            call()
        runs.append((time.process_time() - start) / times * 1e6)
    return sorted(runs)[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--times", type=int, default=100_000, help="route decisions per run")
    args = parser.parse_args(argv)
    builds = max(1, args.times // 100)
    for name in [*PROXY_VARIABLES, *(n.lower() for n in PROXY_VARIABLES), "ALL_PROXY"]:
        os.environ.pop(name, None)
    rows = [("pooled_transport(), no proxy variable", per_call(pooled_transport, builds))]
    os.environ.update(PROXY_VARIABLES)
    rows.append(("pooled_transport(), HTTPS_PROXY + NO_PROXY", per_call(pooled_transport, builds)))
    environment = proxy_environment()
    assert isinstance(pooled_transport(), ProxyRouting)
    for case, url in URLS.items():
        route = partial(environment.route, httpx.URL(url))
        rows.append((f"route decision, per request: {case}", per_call(route, args.times)))
    print(f"CPU µs per call, median of 3 runs ({args.times} route decisions, {builds} builds)")
    print("| what | CPU µs |\n| --- | --- |")
    for what, micros in rows:
        print(f"| {what} | {micros:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
