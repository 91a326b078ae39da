"""Start-up time of the command line, whole process: `offboard --help` and friends.

Each command runs ``--runs`` times in a fresh interpreter (as a shell would start it); the
median is printed with the range, next to a bare ``python -c pass`` for the floor. Import
details: ``python -X importtime -m offboard --help 2>&1 >/dev/null | sort -t'|' -k2 -n``.

    python benchmarks/bench_startup.py --runs 9
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS: list[tuple[str, list[str]]] = [
    ("python -c pass (floor)", ["-c", "pass"]),
    ("offboard --help", ["-m", "offboard", "--help"]),
    ("offboard --version", ["-m", "offboard", "--version"]),
    ("offboard plan --help", ["-m", "offboard", "plan", "--help"]),
    ("offboard apply --help", ["-m", "offboard", "apply", "--help"]),
    ("offboard links --help", ["-m", "offboard", "links", "--help"]),
]


def timed(arguments: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, *arguments], check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per command (default 7)")
    runs = parser.parse_args().runs
    print(f"{'command':<26} {'median':>8} {'min':>8} {'max':>8}   ({runs} runs each)")
    for name, arguments in COMMANDS:
        timed(arguments)  # warm the file cache; not counted
        times = [timed(arguments) for _ in range(runs)]
        print(
            f"{name:<26} {statistics.median(times):>7.3f}s {min(times):>7.3f}s {max(times):>7.3f}s"
        )


if __name__ == "__main__":
    main()
