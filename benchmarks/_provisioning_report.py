"""The provisioning section of ``docs/performance.md``, from ``results/provisioning.json``."""

from __future__ import annotations

from typing import Any


def provisioning_section(data: dict[str, Any] | None) -> list[str]:
    """Tables for the first sync, the one-person re-check and the throttled segment."""
    if data is None:
        return ["Not measured yet: run `benchmarks/bench_provisioning.py`."]
    methods = ", ".join(f"{k} {v:,}" for k, v in sorted(data["by_method"].items()))
    recheck, throttled = data["recheck"], data["throttled"]
    limit = data["limit_per_s"]
    return [
        f"Measured {data['measured_at']} with "
        f"`.venv/bin/python benchmarks/bench_provisioning.py --users {data['users']} "
        f"--groups {data['groups']}`.",
        "",
        "| First sync | Figure |",
        "|---|---:|",
        f"| Users / groups / memberships pushed | {data['users']:,} / {data['groups']:,} "
        f"/ {data['users']:,} |",
        f"| Planned SCIM writes (actions) | {data['actions']:,} |",
        f"| Actions done and read back | {data['actions_verified']:,} |",
        f"| HTTP requests (reads of the directory: {data['read_requests']:,}) "
        f"| {data['requests']:,} ({methods}) |",
        f"| 429 / 5xx answers | {_errors(data['statuses'])} |",
        f"| Wall, unthrottled (offboard process) | {data['wall_s']:,.0f} s |",
        f"| CPU (offboard process) / emulator | {data['cpu_s']:,.0f} s "
        f"/ {data['emulator_cpu_s']:,.0f} s |",
        f"| Peak RSS (offboard process) | {data['peak_rss_mb']} MB |",
        f"| Requests per second, unthrottled | {data['requests_per_s']:,} |",
        f"| Time at offboard's limit of {limit:g} requests/s | {data['hours_at_limit']:g} h |",
        "",
        "| One person's re-check on the full directory (a mover) | Figure |",
        "|---|---:|",
        f"| HTTP requests | {recheck['requests']} |",
        f"| Actions | {recheck['actions']} |",
        f"| Wall | {recheck['wall_s']:.2f} s |",
        "",
        f"| Throttled segment: client and emulator both at {limit:g} requests/s | Figure |",
        "|---|---:|",
        f"| Requests | {throttled['requests']} |",
        f"| Mean requests per second | {throttled['mean_per_s']} |",
        f"| Most requests in any one second (token bucket: burst + rate) "
        f"| {throttled['peak_per_s']} |",
        f"| 429 answers | {throttled['429s']} |",
    ]


def _errors(statuses: dict[str, int]) -> str:
    throttled = statuses.get("429", 0)
    server = sum(v for k, v in statuses.items() if k.startswith("5"))
    return f"{throttled} / {server}"
