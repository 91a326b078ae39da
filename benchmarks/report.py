"""Generate ``docs/performance.md`` and its charts from the saved benchmark results.

Reads ``benchmarks/results/reconcile.json`` (``bench_reconcile.py``) and, when present,
``benchmarks/results/latency*.json`` (``bench_latency.py --json``) and
``benchmarks/results/licences.json`` (``bench_licences.py``); writes PNG charts to
``docs/figures/`` (matplotlib, Agg backend) and the page with tables, the machine and the
commands that produced every figure.

    .venv/bin/python benchmarks/report.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from _peer_report import peer_rate_section, peer_section
from _provisioning_report import provisioning_section

ROOT = Path(__file__).parents[1]
RESULTS = ROOT / "benchmarks/results"
FIGURES = ROOT / "docs/figures"
DOC = ROOT / "docs/performance.md"
GOALS = {"wall_s": 60.0, "peak_rss_mb": 500.0, "ratio": 1.1}


def machine() -> dict[str, str]:
    """Cores, memory, CPU model, Python and OS of the machine running the report."""
    model = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [ln.split(":", 1)[1].strip() for ln in cpuinfo.read_text().splitlines()
                 if ln.startswith("model name")]  # fmt: skip
        model = names[0] if names else model
    memory = "unknown"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        total_kb = int(meminfo.read_text().split()[1])
        memory = f"{total_kb / 2**20:.1f} GiB"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()  # fmt: skip
    return {
        "CPU": model,
        "Cores": str(os.cpu_count()),
        "Memory": memory,
        "Python": platform.python_version(),
        "OS": platform.platform(),
        "Commit (when the report was generated)": commit or "unknown",
    }


def load(name: str) -> Any:
    path = RESULTS / name
    return json.loads(path.read_text()) if path.exists() else None


def requests(row: dict[str, Any], vendor: str) -> int:
    return sum(row[f"{vendor}_requests"].values())


def scale_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| Target | People | Leavers | Wall | CPU | Emulators' CPU | Peak RSS | Keycloak req "
        "| Atlassian req "
        "| Ratio to minimum | Ratio to design minimum | Leavers done | Others sampled active "
        "| Load avg |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        check = row["check"]
        lines.append(
            f"| {row['target']}{_delay_note(row)} | {row['people']:,} | {row['leavers']:,} "
            f"| {row['wall_s']:.1f} s{_range(row, 'runs_wall_s')} "
            f"| {row['cpu_s']:.1f} s{_range(row, 'runs_cpu_s')} | {_emulator_cpu(row)} "
            f"| {row['peak_rss_mb']:.0f} MB "
            f"| {requests(row, 'keycloak'):,} | {requests(row, 'atlassian'):,} "
            f"| {row['ratio']:.2f} | {row['ratio_design']:.2f} "
            f"| {check['leavers_inactive']}/{check['leavers']} "
            f"| {check['others_active']}/{check['others_sampled']} | {row['load_average']} |"
        )
    return lines


def _range(row: dict[str, Any], key: str) -> str:
    """ " (min–max of n)" when the row is the median of several runs."""
    runs = row.get(key) or []
    if len(runs) < 2:
        return ""
    return f" ({min(runs):.1f}–{max(runs):.1f}, {len(runs)} runs)"


def _emulator_cpu(row: dict[str, Any]) -> str:
    value = row.get("emulators_cpu_s")
    return "n/a" if value is None else f"{value:.1f} s"


def recheck_table(rows: list[dict[str, Any]]) -> list[str]:
    """The daemon's re-check of one person after the run, on a store holding every link."""
    lines = ["| Target | People (links in the store) | Wall | CPU |", "|---|---:|---:|---:|"]
    for row in rows:
        if "recheck" in row:
            recheck = row["recheck"]
            lines.append(f"| {row['target']}{_delay_note(row)} | {row['people']:,} "
                         f"| {recheck['wall_s']:.2f} s | {recheck['cpu_s']:.2f} s |")  # fmt: skip
    return lines


def _delay_note(row: dict[str, Any]) -> str:
    if row["reread_delay"] == PRODUCT_REREAD_DELAY:
        return ""
    return f" (re-read pause {row['reread_delay']:g} s)"


def phase_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["| Target | People | Both snapshots | Confirm leavers | Plan, apply, read-back |",
             "|---|---:|---:|---:|---:|"]  # fmt: skip
    for row in rows:
        p = row["phases_s"]
        lines.append(f"| {row['target']}{_delay_note(row)} | {row['people']:,} "
                     f"| {p['snapshots']:.1f} s | {p['confirm']:.1f} s "
                     f"| {p['plan_apply_readback']:.1f} s |")  # fmt: skip
    return lines


def kinds_table(rows: list[dict[str, Any]]) -> list[str]:
    kinds = sorted({(v, k) for r in rows for v in ("keycloak", "atlassian")
                    for k in r[f"{v}_requests"]})  # fmt: skip
    header = " | ".join(f"{v[0].upper()}: {k}" for v, k in kinds)
    lines = [f"| Target | People | {header} |", "|---|---:|" + "---:|" * len(kinds)]
    for row in rows:
        cells = " | ".join(f"{row[f'{v}_requests'].get(k, 0):,}" for v, k in kinds)
        lines.append(f"| {row['target']}{_delay_note(row)} | {row['people']:,} | {cells} |")
    return lines


def scale_chart(rows: list[dict[str, Any]]) -> str:
    emulated = [r for r in rows if r["target"] == "emulator" and _as_shipped(r)]
    sizes = [r["people"] for r in emulated]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    left.plot(sizes, [r["wall_s"] for r in emulated], "o-", label="wall time")
    left.plot(sizes, [r["cpu_s"] for r in emulated], "s-", label="CPU time (offboard process)")
    left.axhline(GOALS["wall_s"], color="grey", linestyle="--", label="goal at 100k: 60 s")
    left.set(xlabel="people in the directory (2 % leavers)", ylabel="seconds",
             title="Full reconciliation time")  # fmt: skip
    right.plot(sizes, [r["peak_rss_mb"] for r in emulated], "o-", color="tab:green",
               label="peak RSS (offboard process)")  # fmt: skip
    right.axhline(GOALS["peak_rss_mb"], color="grey", linestyle="--", label="goal: 500 MB")
    right.set(xlabel="people in the directory (2 % leavers)", ylabel="MB",
              title="Peak memory", ylim=(0, 550))  # fmt: skip
    for axes in (left, right):
        axes.grid(alpha=0.3)
        axes.legend(loc="upper left")
        axes.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: f"{x:,.0f}"))
    figure.tight_layout()
    return save(figure, "reconcile-scale.png")


def requests_chart(rows: list[dict[str, Any]]) -> str:
    emulated = [r for r in rows if r["target"] == "emulator" and _as_shipped(r)]
    sizes = [r["people"] for r in emulated]
    figure, axes = plt.subplots(figsize=(7, 4.2))
    total = [requests(r, "keycloak") + requests(r, "atlassian") for r in emulated]
    axes.plot(sizes, total, "o-", linewidth=2.5, color="tab:red", label="offboard, both vendors")
    axes.plot(sizes, [requests(r, "atlassian") for r in emulated], "s-", alpha=0.6,
              color="tab:orange", label="  of which Atlassian")  # fmt: skip
    axes.plot(sizes, [requests(r, "keycloak") for r in emulated], "^-", alpha=0.6,
              color="tab:blue", label="  of which Keycloak")  # fmt: skip
    axes.plot(sizes, [r["design_minimum"] for r in emulated], "k:", label="design minimum")
    axes.plot(sizes, [r["minimum"] for r in emulated], "k--", label="minimum")
    axes.set(xlabel="people in the directory (2 % leavers)", ylabel="HTTP requests",
             title="Requests per full reconciliation")  # fmt: skip
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left")
    axes.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: f"{x:,.0f}"))
    axes.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: f"{x:,.0f}"))
    figure.tight_layout()
    return save(figure, "reconcile-requests.png")


def latency_chart(
    runs: list[tuple[str, dict[str, Any]]], waves: list[tuple[str, dict[str, Any]]]
) -> str:
    """One person at a time (left, against the p50/p99 goals) and waves (right, each against
    its API minimum at the rate limit + 5 s): each legend entry gives its ratio."""
    panels = 2 if waves else 1
    height = 4.4 + (0.25 * len(waves) + 0.4 if waves else 0)  # room for the waves' legend
    figure, axes_all = plt.subplots(1, panels, figsize=(7 * panels, height), squeeze=False)
    axes = axes_all[0][0]
    for label, run in runs:
        values = sorted(run["latencies_s"])
        shares = [(n + 1) / len(values) for n in range(len(values))]
        ratio = percentile(values, 0.99) / 10
        axes.step(values, shares, where="post", label=f"{label}; p99 / 10 s goal = {ratio:.2f}")
    axes.axvline(3, color="grey", linestyle="--", label="goal p50 < 3 s")
    axes.axvline(10, color="grey", linestyle=":", label="goal p99 < 10 s")
    axes.set(xlabel="seconds from the disable call in Keycloak to the verified read-back",
             ylabel="share of disables", title="Deprovisioning latency (daemon, real Keycloak)",
             ylim=(0, 1.02))  # fmt: skip
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right", fontsize="small")
    if waves:
        wave_panel(axes_all[0][1], waves)
    figure.tight_layout()
    return save(figure, "latency.png")


def wave_panel(axes: Any, waves: list[tuple[str, dict[str, Any]]]) -> None:
    """Each wave's latencies as a share of its goal (API minimum at the rate + 5 s)."""
    for label, run in waves:
        goal = run["goal_p99_s"]
        values = sorted(v / goal for v in run["latencies_s"])
        shares = [(n + 1) / len(values) for n in range(len(values))]
        axes.step(values, shares, where="post",
                  label=f"{label}; p99 / goal = {run['p99_ratio_to_goal']:.2f}")  # fmt: skip
    axes.axvline(1, color="grey", linestyle="--", label="goal: p99 within API minimum + 5 s")
    axes.set(xlabel="latency / (wave's API minimum at the rate limit + 5 s)",
             ylabel="share of the wave", title="Waves of leavers under the running daemon",
             ylim=(0, 1.02))  # fmt: skip
    axes.grid(alpha=0.3)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), fontsize="small")


def save(figure: Any, name: str) -> str:
    FIGURES.mkdir(parents=True, exist_ok=True)
    figure.savefig(FIGURES / name, dpi=110)
    plt.close(figure)
    return f"figures/{name}"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def latency_runs(kind: str = "single") -> list[tuple[str, dict[str, Any]]]:
    """The saved latency runs of one kind: ``single`` (one by one) or ``wave``."""
    runs = []
    for path in sorted(RESULTS.glob("latency*.json")):
        run = json.loads(path.read_text())
        if run.get("kind", "single") != kind:
            continue
        if kind == "wave":
            where = "real Keycloak" if run["target"] == "keycloak" else "Keycloak emulator"
            runs.append((f"wave of {run['wave']:,}, {where} ({path.stem})", run))
            continue
        how = "webhook + poller" if run["webhook"] else "admin-event poller"
        runs.append((f"{how}, poll {run['poll_interval_s']:g} s ({path.name})", run))
    return sorted(runs, key=lambda item: (item[1].get("wave", 0), item[0]))


def latency_section(
    runs: list[tuple[str, dict[str, Any]]], waves: list[tuple[str, dict[str, Any]]]
) -> list[str]:
    if not runs and not waves:
        return [
            "No latency results yet: run `.venv/bin/python benchmarks/bench_latency.py "
            "--users 50 --json benchmarks/results/latency.json` and generate again."
        ]
    lines = [f"![Latency distribution]({latency_chart(runs, waves)})", "",
             "| Run | Disables | p50 | p95 | p99 | max | p99 / 10 s goal "
             "| lifecycle/disable calls | measured |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]  # fmt: skip
    for label, run in runs:
        values = run["latencies_s"]
        cells = " | ".join(f"{percentile(values, q):.2f} s" for q in (0.5, 0.95, 0.99))
        lines.append(f"| {label} | {len(values)} | {cells} | {max(values):.2f} s "
                     f"| {percentile(values, 0.99) / 10:.2f} "
                     f"| {run['lifecycle_disable_calls']} | {run['measured_at']} |")  # fmt: skip
    return [*lines, "", *wave_section(waves)]


WAVE_NOTE = """\
A wave is N people disabled at once (`bench_latency.py --wave N`; `--emulator` for the
Keycloak emulator): each person's latency runs from their own change in Keycloak to the
verified read-back of their deactivation, with the daemon running, the admin-event poller
at its default interval, the Atlassian emulator limited to the rate offboard uses by
default (10 requests per second for the key, `atlassian.rate_limit_per_second`) and the
budget and blast-radius thresholds raised above the wave (this measures the wave; the hold
is covered by tests/e2e/test_daemon_waves.py). The **API minimum** is what any tool must
send to Atlassian for the wave: one `lifecycle/disable` per person plus one email search
per 100 people, divided by the rate; the goal is p99 within that minimum + 5 s."""


WAVE_FINDINGS = """\
What the figures say. A burst is planned in a handful of waves (the "waves planned"
column): the first takes at most 50 people and each next one at most twice the people in
flight, up to `daemon.wave_max_people` (500), and one wave plans at a time while the
others send; on the real Keycloak, whose realm other tests share, the column also counts a
wave of people named by older events. No run met a 429: the client keeps within the
`X-RateLimit-Remaining` each answer reports (less the requests sent after it), so the rate
is the only limit. A wave sends 1.02 requests per person where the minimum needs 1.01: the
`lifecycle/disable`, one email search per 100 people of a wave for the lookups, and the
read-backs, a hundred to one Organizations search by email shared by every action waiting
for one (all waves of the daemon together): while sends go on, a read-back waits up to 12 s
for a full search (at 10 requests a second, a hundred sends take about that long), and the
last ones go as soon as their writes have settled. No read is dropped: every deactivation
is read back, and an account a search did not return would be read by id (none was).

- **30 on the real Keycloak: met, twice** (p99 4.4 s and 4.4 s against 8.1 s, 0.54, on
  session 8's code; 34 requests: 30 disables, a lookup and the read-back searches; session
  7: 3.9 s and 3.9 s, session 6: 3.9 s and 4.9 s: the poller's one-second interval moves it).
  Before the waves work: 76 and 90 requests (a read-back by id per person, often twice) and
  p99 / goal 1.35 and 1.43.
- **300: met** (p99 31.8 s against 35.3 s, 0.90, on session 8's code as on sessions 6 and 7;
  307 requests: 300 disables, 4 lookups in waves of 50, 100 and 150, 3 read-back searches of
  100). The session before the waves: 315 requests (12 read-back searches of 25), p99
  34.0 s. The price of full searches: a person's read-back waits a median 7 s for company
  (2 s before), so the p50 rose from 19.6 s to 23.6 s while the p99, set by the last people
  sent, fell.
- **3,000: met** (p99 307.0 s against 308.0 s, 0.997, on session 8's code; 306.9 s on
  session 7's, 307.5 s and 307.8 s on session 6's, 307.3 s on the waves branch; 3,061 requests:
  3,000 disables, 31 lookups, 30 read-back searches of 100, no read by id). The session
  before the waves: 3,205 requests (123 read-back searches of about 30, and 52 reads by id),
  p99 333 s, 1.08. The sends themselves take 306 s at 10 a second; the rest is the poller's
  interval, the first wave's planning and the last read-back's settle. The margin is about
  a second: on a busier machine, or with a slower Keycloak, the 3,000 wave may miss it by a
  little (the machine is shared).

What closed the 3,000 wave's gap, each step found in the journal's phases and the request
log:
- The 52 reads by id were not accounts an email answer lacked: each wave starting beside
  another ran crash recovery, took the other wave's in-flight intents for a crash's, and
  read their accounts by id (up to four times, with pauses) before planning, journaling
  `recovered` for actions whose outcome was still to come. Recovery now leaves the runs
  this process is applying alone.
- The read-back searches carried about 30 accounts because a read waited at most 3 s for
  company, 30 sends at 10 a second; it now waits up to 12 s while sends go on.
- Longer waits then exposed a trap in the re-reads of a stale plan's people
  (`daemon.reconfirm_after`, 5 s): the batch read ahead only past the furthest point read,
  so once a batch ran ahead of the sends, every later person's read went stale before
  their turn and was read again alone, behind the lock, with the confirming rounds' pauses
  (a wave of 300 fell to 1.6 deactivations a second, p99 74 s). A batch now reads ahead
  from the person due, re-reading the stale ones together.
- Four waves of 500 planned side by side took about ten seconds before the first send,
  the rate limit idle meanwhile: waves now plan in turn, the first one small.

Before the previous session: the client could not read the rate-limit headers (the
emulator, like a gateway with a limit per key and one per path, repeats them, which HTTP
joins as `993, 3`), so it met 430 × 429, each pausing every call for 1 s; a wave kept 4
actions in flight (now 10); and each concurrent wave gathered its read-backs alone, about
two accounts per search (4,536 requests, p99 466 s), until they shared one reader. Before
waves, 30 people disabled at once waited a median of about 30 s each (one re-check per
person, each with its own reads and pauses)."""


def wave_section(waves: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """The wave runs (issue 18): one targeted plan per wave, against the API minimum."""
    lines = ["### Waves of leavers", "", WAVE_NOTE, ""]
    if not waves:
        command = "benchmarks/bench_latency.py --wave 300 --emulator"
        return [*lines, f"No wave results yet: run `.venv/bin/python {command}`."]
    lines += [
        "| Wave | Waves planned | Atlassian requests (per person; 429s) | API minimum | p50 | p95 "
        "| p99 | max | Goal (minimum + 5 s) | p99 / goal | Whole wave | measured |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for label, run in waves:
        values = run["latencies_s"]
        cells = " | ".join(f"{percentile(values, q):.1f} s" for q in (0.5, 0.95, 0.99))
        planned = _planned(run["wave_sizes"])
        lines.append(
            f"| {label} | {planned} | {run['atlassian_requests']:,} "
            f"({run['atlassian_requests'] / run['wave']:.1f}; {run.get('atlassian_429', 'n/a')}) "
            f"| {run['api_minimum_requests']:,} req = {run['api_minimum_s']:g} s "
            f"| {cells} | {max(values):.1f} s | {run['goal_p99_s']:g} s "
            f"| {run['p99_ratio_to_goal']:.2f} | {run['wall_s']:g} s | {run['measured_at']} |"
        )
    kinds = [f"{label}: " + ", ".join(f"`{_short(k)}` × {n:,}" for k, n in
             run.get("atlassian_request_kinds", {}).items()) for label, run in waves]  # fmt: skip
    phases = [f"{label}: " + "; ".join(f"{name} p50 {cut['p50']:g} s, p99 {cut['p99']:g} s"
              for name, cut in run["phases_s"].items())
              for label, run in waves if run.get("phases_s")]  # fmt: skip
    where = ["", "Where each person's time went (from the journal: the change to the action's "
             "intent, the intent to its outcome, the outcome to the verified read-back):", "",
             *(f"- {p}" for p in phases)] if phases else []  # fmt: skip
    return [*lines, "", "Atlassian requests by kind:", "", *(f"- {k}" for k in kinds), *where,
            "", WAVE_FINDINGS]  # fmt: skip


def _short(kind: str) -> str:
    """``POST v2 …/users/search`` for the org and directory's long path."""
    return re.sub(r"/admin/v2/orgs/[^/]+/directories/[^/]+", "v2 …", kind)


def _planned(sizes: list[int]) -> str:
    """``1 × 30`` or ``6 × 500`` style: how the daemon cut the wave."""
    counts: dict[int, int] = {}
    for size in sizes:
        counts[size] = counts.get(size, 0) + 1
    return ", ".join(f"{n} × {size:,}" for size, n in counts.items())


PRODUCT_REREAD_DELAY = 0.2
"""The Keycloak adapter's default pause between confirming rounds: rows with it are 'as shipped'."""


def _as_shipped(row: dict[str, Any]) -> bool:
    return bool(row["reread_delay"] == PRODUCT_REREAD_DELAY)


KIND_NOTE = """\
Why the ratio to the minimum is above 1.1: with 2 % leavers, the leavers, not the pages,
make most of the requests, and offboard checks each one before acting. Per deleted leaver
Keycloak gets a read by id (its 404 is the only proof of a deletion Keycloak gives, and has
no bulk form); the minimum does not count it. The disabled leavers' fresh read and three
confirming rounds each read the listing of disabled users (one page per 1000 of them, the
fresh read's in full: a permanent lockout shows in the attributes, and no temporary one is
in that listing) instead of reading each leaver by id with a brute-force check. Atlassian
gets what the minimum counts: the leavers' linked accounts by searches of ten account ids
(cheaper than walking the directory at 2 % leavers), a `lifecycle/disable` per action (a
refusal answers 403 with its reason, a repeat changes nothing) and the read-backs by
searches of up to a hundred emails. The Keycloak walk is at the minimum: one page per 1000
users (the page asks for one user more, which also tells where the listing ends, so there
is no empty last page), plus the token, a few `users/count`, the service-account listing,
the realm and the org's domains."""


def goals(rows: list[dict[str, Any]]) -> list[str]:
    """The goals, met or not, at the largest emulated size; growth per person across sizes."""
    emulated = sorted((r for r in rows if r["target"] == "emulator" and _as_shipped(r)),
                      key=lambda r: r["people"])  # fmt: skip
    if not emulated:
        return []
    big = emulated[-1]

    def verdict(ok: bool) -> str:
        return "met" if ok else "**not met**"

    per_person = [f"{r['people']:,}: {1000 * r['wall_s'] / r['people']:.2f} ms wall, "
                  f"{1000 * r['cpu_s'] / r['people']:.2f} ms CPU" for r in emulated]  # fmt: skip
    return [
        f"At {big['people']:,} people ({big['leavers']:,} leavers):",
        "",
        f"- wall time {big['wall_s']:.0f} s{_median_note(big)}, goal under 60 s: "
        f"{verdict(big['wall_s'] < GOALS['wall_s'])};",
        f"- peak memory {big['peak_rss_mb']:.0f} MB, goal under 500 MB: "
        f"{verdict(big['peak_rss_mb'] < GOALS['peak_rss_mb'])};",
        f"- requests {big['requests']:,} against a minimum of {big['minimum']:,} (ratio "
        f"{big['ratio']:.2f}) and a design minimum of {big['design_minimum']:,} (ratio "
        f"{big['ratio_design']:.2f}), goal under 1.1: {verdict(big['ratio'] < GOALS['ratio'])} "
        f"against the minimum, {verdict(big['ratio_design'] < GOALS['ratio'])} against the "
        "design minimum;",
        "- cost per person (linear growth keeps these flat): " + "; ".join(per_person) + ".",
    ]


def _median_note(row: dict[str, Any]) -> str:
    runs = row.get("runs_wall_s") or []
    if len(runs) < 2:
        return ""
    return f" (median of {len(runs)} runs: {', '.join(f'{w:.1f}' for w in runs)} s)"


def licence_section(row: dict[str, Any] | None) -> list[str]:
    """The licence check's figures (``bench_licences.py``), against its goals."""
    if row is None:
        return ["Not measured yet: run `.venv/bin/python benchmarks/bench_licences.py`."]
    wall_ok = row["wall_s"] < GOALS["wall_s"]
    rss_ok = row["peak_rss_mb"] < GOALS["peak_rss_mb"]
    return [
        "| Accounts | Wall | CPU | Read and report | Render (JSON, CSV, HTML) | Peak RSS "
        "| Reclaimable seats | Load avg |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {row['people']:,} | {row['wall_s']:.1f} s ({'met' if wall_ok else 'missed'}) "
        f"| {row['cpu_s']:.1f} s | {row['read_and_report_s']:.1f} s | {row['render_s']:.1f} s "
        f"| {row['peak_rss_mb']:.0f} MB ({'met' if rss_ok else 'missed'}) "
        f"| {row['reclaimable_seats']:,} | {row['load_average']} |",
        "",
        f"Command: `.venv/bin/python benchmarks/bench_licences.py --people {row['people']}`. "
        "Wall time includes waiting for the emulator, which answers from another process on "
        "the same (shared) machine; the CPU column is offboard's own work.",
    ]


def main() -> int:
    # No options: --help says what the command writes instead of writing it.
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    data = load("reconcile.json")
    if data is None:
        print("no benchmarks/results/reconcile.json: run benchmarks/bench_reconcile.py first")
        return 1
    rows = data["rows"]
    template = (Path(__file__).parent / "performance_template.md").read_text()
    page = template.format(
        generated=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        machine="\n".join(f"| {k} | {v} |" for k, v in machine().items()),
        scale_chart=scale_chart(rows),
        requests_chart=requests_chart(rows),
        scale_table="\n".join(scale_table(rows)),
        phase_table="\n".join(phase_table(rows)),
        kinds_table="\n".join(kinds_table(rows)),
        kind_note=KIND_NOTE,
        recheck_table="\n".join(recheck_table(rows)),
        goals="\n".join(goals(rows)),
        latency="\n".join(latency_section(latency_runs(), latency_runs("wave"))),
        licences="\n".join(licence_section(load("licences.json"))),
        provisioning="\n".join(provisioning_section(load("provisioning.json"))),
        peer="\n".join(peer_section(load("peer.json"))),
        peer_rate="\n".join(peer_rate_section(load("peer.json"))),
    )
    DOC.write_text(page)
    print(f"wrote {DOC.relative_to(ROOT)} and charts in {FIGURES.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
