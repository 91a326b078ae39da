"""Start-up of the command line, whole process: `offboard --help` and friends, and the
imports of real runs (`plan`, `apply --yes`, the daemon's start) against seeded emulators.

Each help command runs ``--runs`` times in a fresh interpreter (as a shell would start it);
the median is printed with the range, next to a bare ``python -c pass`` for the floor.

Then each real command runs ``--real-runs`` times under ``python -X importtime``, each time
on fresh emulators (``_harness``: ``--people`` people, every 50th a leaver) and a store with
everyone linked, as ``bench_peer.py`` runs it: the sum of the import times (every import of
the run, not only those before the first request), the time from the process's start to
the first request an emulator answered, the wall time and the peak RSS (GNU ``time``).
offboard's bytecode is compiled first, as an installed package's is.
Import details: ``BENCH_STARTUP_LOGS=folder`` keeps the logs, for ``import_total.py``.

    .venv/bin/python benchmarks/bench_startup.py --runs 9 --real-runs 3

``--against SRC`` runs another offboard's ``src`` folder too, alternately first with this
one, for a before/after pair measured under the same load. ``--plain`` runs the real
commands without ``-X importtime`` (which slows every import): the first request's time as
a user meets it, and no import figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))

from _harness import emulators, seed_links
from bench_peer import CONTROL, compiled_like_an_install, config_file, free_ports, measured

STACK = (
    "import httpx, pydantic, pydantic_settings, typer, rich.console, structlog, "
    "sqlalchemy, sqlalchemy.dialects.sqlite"
)
"""The libraries DESIGN.md chooses, as a real run uses them: their imports alone are the
floor of any run's start-up (issue 18 asks under 0.3 s of imports for the whole run)."""
COMMANDS: list[tuple[str, list[str]]] = [
    ("python -c pass (floor)", ["-c", "pass"]),
    ("the stack alone", ["-c", STACK]),
    ("offboard --help", ["-m", "offboard", "--help"]),
    ("offboard --version", ["-m", "offboard", "--version"]),
    ("offboard plan --help", ["-m", "offboard", "plan", "--help"]),
    ("offboard apply --help", ["-m", "offboard", "apply", "--help"]),
    ("offboard links --help", ["-m", "offboard", "links", "--help"]),
]
REAL: list[tuple[str, list[str]]] = [
    ("offboard plan", ["plan"]),
    ("offboard apply --yes", ["apply", "--yes"]),
    ("offboard run (start)", ["run"]),
]
KEEP_LOGS = os.environ.get("BENCH_STARTUP_LOGS", "")
"""A folder to keep each real command's ``-X importtime`` log in (``import_total.py``)."""
SHOWN = ("imports_s", "first_request_s", "wall_s", "peak_rss_mb", "modules")
DAEMON_GRACE_S = 3.0
"""How long the daemon runs after its first request before it is stopped (its start's
imports are then done; a reconciliation may still be running, and is cut short)."""


def timed(arguments: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, *arguments], check=True, capture_output=True)
    return time.perf_counter() - started


def import_seconds(log: str) -> float:
    """The sum of the self times in a ``-X importtime`` log: every import, counted once."""
    return (
        sum(
            int(line.split("|")[0].split(":")[1])
            for line in log.splitlines()
            if line.startswith("import time:") and "self [us]" not in line
        )
        / 1e6
    )


def import_count(log: str) -> int:
    """How many modules a ``-X importtime`` log imported (steady, unlike their times)."""
    return sum(1 for line in log.splitlines() if line.startswith("import time:")) - 1


def first_request(*urls: str) -> datetime | None:
    """When the first request an emulator answered was answered (its own log's clock)."""
    stamps = []
    for url in urls:
        entries = httpx.get(f"{url}{CONTROL}/requests", timeout=60).json()["requests"]
        stamps += [e["at"] for e in entries if not e["path"].startswith(CONTROL)]
    return datetime.fromisoformat(min(stamps)) if stamps else None


def real_run(
    arguments: list[str], people: int, source: str = "", importtime: bool = True
) -> dict[str, Any]:
    """One real command on fresh emulators: import seconds, first request, wall, peak RSS;
    the offboard of the ``source`` folder instead of this one when given."""
    with tempfile.TemporaryDirectory() as folder, emulators(people, 50, Path(folder)) as emu, \
         _offboard_from(source):  # fmt: skip
        scratch = Path(folder)
        config = config_file(scratch, emu.keycloak_url, emu.atlassian_url, rate=None)
        if arguments == ["run"]:
            with config.open("a") as text:
                text.write(f"\n[daemon]\nlisten_port = {free_ports(1)[0]}\n")
        seed_links(scratch / "state.db", emu.world)
        timing = ["-X", "importtime"] if importtime else []
        command = [sys.executable, *timing, "-m", "offboard", "--config", str(config),
                   *arguments]  # fmt: skip
        started = time.time()
        if arguments == ["run"]:
            figures = _daemon(command, scratch / "run.log", emu.keycloak_url, emu.atlassian_url)
        else:
            figures = measured(command, scratch / "run.log")
        log = (scratch / "run.log").read_text(errors="replace")
        if KEEP_LOGS:  # the last run's log of each command, for import_total.py
            Path(KEEP_LOGS, "-".join(arguments) + ".log").write_text(log)
        figures["imports_s"] = import_seconds(log) if importtime else float("nan")
        figures["modules"] = import_count(log) if importtime else float("nan")
        first = first_request(emu.keycloak_url, emu.atlassian_url)
        figures["first_request_s"] = first.timestamp() - started if first else float("nan")
    return figures


@contextmanager
def _offboard_from(source: str) -> Iterator[None]:
    """Children import offboard from ``source`` (a ``src`` folder) while inside."""
    if not source:
        yield
        return
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = source
    try:
        yield
    finally:
        if before is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = before


def _daemon(command: list[str], log: Path, *urls: str) -> dict[str, Any]:
    """The daemon until a little after its first request; no wall or RSS figures."""
    with log.open("wb") as sink:
        daemon = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while first_request(*urls) is None and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(DAEMON_GRACE_S)
        finally:
            daemon.terminate()
            daemon.wait(30)
    return {"wall_s": float("nan"), "peak_rss_mb": float("nan")}


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--runs", type=int, default=7, help="runs per help command (default 7)")
    parser.add_argument("--real-runs", type=int, default=3, help="runs per real command")
    parser.add_argument("--people", type=int, default=1000, help="people in the emulators")
    parser.add_argument("--only-real", action="store_true", help="skip the help commands")
    parser.add_argument(
        "--against",
        default="",
        metavar="SRC",
        help="also run the offboard of this src folder, alternately first (a before/after "
        "pair: git archive BASE src | tar -x -C /tmp/base; --against /tmp/base/src)",
    )
    parser.add_argument("--plain", action="store_true", help="real commands without -X importtime")
    parser.add_argument(
        "--commands", default="", help="only these real commands (comma-separated: plan,apply,run)"
    )
    options = parser.parse_args()
    compiled_like_an_install()
    if options.against:
        subprocess.run([sys.executable, "-m", "compileall", "-q", options.against], check=True)
    if not options.only_real:
        help_commands(options.runs)
    if options.real_runs < 1:
        return
    header = ("real command", "imports", "1st req", "wall", "peak RSS", "modules")
    print(f"\n{header[0]:<32}" + "".join(f"{h:>10}" for h in header[1:]),
          f"  (median of {options.real_runs}, {options.people:,} people)")  # fmt: skip
    sources = ["", options.against] if options.against else [""]
    chosen = [c for c in options.commands.split(",") if c]
    for name, arguments in REAL:
        if chosen and arguments[0] not in chosen:
            continue
        runs: dict[str, list[dict[str, Any]]] = {source: [] for source in sources}
        for n in range(options.real_runs):
            for source in sources if n % 2 == 0 else sources[::-1]:
                run = real_run(arguments, options.people, source, importtime=not options.plain)
                runs[source].append(run)
        for source, done in runs.items():
            row = [statistics.median(run[key] for run in done) for key in SHOWN]
            cells = [f"{row[0]:.3f}s", f"{row[1]:.2f}s", f"{row[2]:.2f}s", f"{row[3]:.0f} MB",
                     f"{row[4]:.0f}"]  # fmt: skip
            label = f"{name} (against)" if source else name
            print(f"{label:<32}" + "".join(f"{c:>10}" for c in cells), flush=True)


def help_commands(runs: int) -> None:
    print(
        f"{'command':<26} {'median':>8} {'min':>8} {'max':>8} {'imports':>8}   ({runs} runs each)"
    )
    for name, arguments in COMMANDS:
        timed(arguments)  # warm the file cache; not counted
        times = [timed(arguments) for _ in range(runs)]
        imports = statistics.median(help_imports(arguments) for _ in range(runs))
        print(
            f"{name:<26} {statistics.median(times):>7.3f}s {min(times):>7.3f}s "
            f"{max(times):>7.3f}s {imports:>7.3f}s",
            flush=True,
        )


def help_imports(arguments: list[str]) -> float:
    """The import seconds of one run (``-X importtime``, not counted in the wall times)."""
    done = subprocess.run([sys.executable, "-X", "importtime", *arguments], check=True,
                          capture_output=True, text=True)  # fmt: skip
    return import_seconds(done.stderr)


if __name__ == "__main__":
    main()
