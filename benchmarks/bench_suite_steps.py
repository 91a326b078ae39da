"""Wall time of each gate of ``scripts/test``, one after the other, and the slowest tests.

Runs, in this order and never two at once (timing tests would feel it): ruff, ruff format,
mypy, import-linter, the lock check, the advisories, the whole pytest suite with
``--durations``, then ``scripts/test-floors``. Prints one line per step (seconds, exit code)
and the ``--top`` slowest test phases pytest reported. Set the environment as CI does first
(the shared Keycloak running, ``OFFBOARD_TEST_POSTGRES_URL`` on a database of your own,
``CI=true``); the figures in the commit messages of the speed work came from

    CI=true OFFBOARD_TEST_POSTGRES_URL=... .venv/bin/python benchmarks/bench_suite_steps.py

``--only pytest,floors`` runs some steps; ``--keep DIR`` keeps each step's output there.
The whole run takes about as long as CI (25 to 30 minutes on two busy cores): run it once.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).parents[1]
BIN = Path(sys.executable).parent

STEPS: dict[str, list[str]] = {
    "ruff": [str(BIN / "ruff"), "check", "src", "tests", "benchmarks"],
    "format": [str(BIN / "ruff"), "format", "--check", "src", "tests", "benchmarks"],
    "mypy": [str(BIN / "mypy")],
    "lint-imports": [str(BIN / "lint-imports")],
    "lock": ["scripts/lock", "--check"],
    "audit": ["scripts/audit"],
    "pytest": [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
    "floors": ["scripts/test-floors"],
}
DURATION = re.compile(r"^(\d+\.\d+)s (call|setup|teardown)\s+(\S+)")


def run_step(name: str, command: list[str], log: Path) -> tuple[float, int]:
    """Seconds and exit code of one step, its output kept in ``log``."""
    start = time.monotonic()
    with log.open("w", encoding="utf-8") as out:
        code = subprocess.call(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    return time.monotonic() - start, code


def slowest(log: Path, top: int) -> list[str]:
    """The first ``top`` lines of pytest's durations report, as printed."""
    lines = log.read_text(encoding="utf-8").splitlines()
    found = [line for line in lines if DURATION.match(line)]
    return found[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--only", default=",".join(STEPS), help="steps, comma-separated")
    parser.add_argument("--top", type=int, default=20, help="slowest test phases to print")
    parser.add_argument("--keep", type=Path, help="folder for each step's output")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="suite-steps-"))
    folder.mkdir(parents=True, exist_ok=True)
    total = 0.0
    for name in args.only.split(","):
        command = STEPS[name]
        if name == "pytest":
            command = [*command, f"--durations={max(args.top, 1)}"]
        seconds, code = run_step(name, command, folder / f"{name}.log")
        total += seconds
        print(f"{name:<14} {seconds:8.1f} s  exit {code}", flush=True)
    print(f"{'all':<14} {total:8.1f} s  (outputs in {folder})")
    pytest_log = folder / "pytest.log"
    if pytest_log.exists():
        print(f"\nslowest {args.top} test phases:")
        for line in slowest(pytest_log, args.top):
            print("  " + line)


if __name__ == "__main__":
    main()
