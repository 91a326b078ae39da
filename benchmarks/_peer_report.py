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
    if data is None:
        return ["Not measured yet: run `benchmarks/bench_peer.py`."]
    lines = [
        "| People | Tool | Wall | CPU | Peak RSS | Requests (Atlassian) | Atlassian requests "
        "per rightful deactivation | Deactivated | Wrongful | Missed leavers |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in data["rows"]:
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
    for row in data["rows"]:
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
