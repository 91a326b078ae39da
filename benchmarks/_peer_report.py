"""The "Against the naive script" section of ``docs/performance.md``, from ``results/peer.json``."""

from __future__ import annotations

from typing import Any

GOALS = {"wall_s": 2.0, "cpu_s": 2.0, "peak_rss_mb": 1.3, "atlassian_requests": 1.15}
"""Issue 18's goals: offboard at most this many times the naive script."""


def _verdict(ratio: float, goal: float) -> str:
    return f"{ratio:.2f}× ({'met' if ratio <= goal else f'goal ≤ {goal}×: not met'})"


def _per_good(row: dict[str, Any]) -> str:
    """Atlassian requests per rightful deactivation (a leaver's account, not protected)."""
    good = row["deactivated"] - row["wrongful"]
    return f"{row['atlassian_requests'] / good:.2f}" if good else "n/a"


def peer_section(data: dict[str, Any] | None) -> list[str]:
    """The unthrottled rows: what each tool itself costs."""
    rows = [row for row in (data or {}).get("rows", []) if not row.get("atlassian_rate")]
    if not rows:
        return ["Not measured yet: run `benchmarks/bench_peer.py`."]
    lines = [
        "| People | Tool | Wall | CPU | Peak RSS | Requests (Atlassian) | Atlassian requests "
        "per rightful deactivation | Deactivated | Wrongful | Missed leavers |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        for tool in ("naive", "offboard"):
            figures = row[tool]
            lines.append(
                f"| {row['people']:,} | {tool} | {figures['wall_s']:.1f} s "
                f"| {figures['cpu_s']:.1f} s | {figures['peak_rss_mb']:.0f} MB "
                f"| {figures['requests']:,.0f} ({figures['atlassian_requests']:,.0f}) "
                f"| {_per_good(figures)} | {figures['deactivated']:,.0f} "
                f"| {figures['wrongful']:,.0f} | {figures['missed']:,.0f} of "
                f"{figures['leavers']:,.0f} |"
            )
    lines += [
        "",
        "| People | offboard / naive: wall | CPU | peak memory | Atlassian requests "
        "| all requests | runs (load average) | measured |",
        "|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in rows:
        ratio = row["ratio"]
        cells = " | ".join(
            _verdict(ratio[key], goal) for key, goal in GOALS.items() if key in ratio
        )
        lines.append(
            f"| {row['people']:,} | {cells} | {ratio['requests']:.2f}× "
            f"| {row['repeat']} paired, medians ({row['load_average']}) "
            f"| {row['measured_at']} |"
        )
    return lines


def peer_rate_section(data: dict[str, Any] | None) -> list[str]:
    """The rows at a tenant's rate limit (``--atlassian-rate``): each wall against the API
    minimum, what any tool's Atlassian requests take at that rate."""
    rows = [row for row in (data or {}).get("rows", []) if row.get("atlassian_rate")]
    if not rows:
        return ["Not measured yet: run `benchmarks/bench_peer.py --atlassian-rate 10`."]
    lines = [
        "| People | Rate | Tool | Wall | Its Atlassian requests at the rate | Wall / that "
        "| CPU | Answered 429 | Deactivated | Wrongful | Missed leavers |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        rate = row["atlassian_rate"]
        for tool in ("naive", "offboard"):
            figures = row[tool]
            floor = figures["atlassian_requests"] / rate
            lines.append(
                f"| {row['people']:,} | {rate:g}/s | {tool} | {figures['wall_s']:.1f} s "
                f"| {floor:.1f} s | {figures['wall_s'] / floor:.2f}× "
                f"| {figures['cpu_s']:.1f} s | {figures.get('atlassian_429', 0):,.0f} "
                f"| {figures['deactivated']:,.0f} | {figures['wrongful']:,.0f} "
                f"| {figures['missed']:,.0f} of {figures['leavers']:,.0f} |"
            )
    lines += [
        "",
        "| People | Rate | offboard / naive: wall | CPU | Atlassian requests | runs (load average) "
        "| measured |",
        "|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in rows:
        ratio = row["ratio"]
        lines.append(
            f"| {row['people']:,} | {row['atlassian_rate']:g}/s "
            f"| {_verdict(ratio['wall_s'], GOALS['wall_s'])} | {ratio['cpu_s']:.2f}× "
            f"| {_verdict(ratio['atlassian_requests'], GOALS['atlassian_requests'])} "
            f"| {row['repeat']} paired, medians ({row['load_average']}) | {row['measured_at']} |"
        )
    return lines
