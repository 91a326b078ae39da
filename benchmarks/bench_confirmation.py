"""The Keycloak read path of a full run, alone: the listing, then the confirmation of leavers.

A seeded Keycloak emulator runs in its own process (``_harness``: ``--people`` people, every
50th a leaver, alternately disabled and deleted). Each run is a fresh interpreter that takes a
snapshot (the listing) and confirms every leaver, as ``apply`` does: a first read by id of
each (with its lockout check), then the confirming rounds, 0.2 s apart. Printed per phase:
wall and CPU time of the client, and the emulator's CPU during the first reads. The first
reads are where the reads of users take turns (Keycloak issue 40689).

    .venv/bin/python benchmarks/bench_confirmation.py --people 50000 --runs 8

``--against SRC`` runs another offboard's ``src`` folder too, alternately first with this
one (``git archive BASE src | tar -x -C /tmp/base``; ``--against /tmp/base/src``): a
before/after pair under the same load, which on shared cores moves more than the change.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

SHOWN = ("list_wall", "list_cpu", "first_wall", "first_cpu", "first_emulator_cpu",
         "rounds_wall", "confirm_wall", "confirm_cpu")  # fmt: skip


def cpu_of(pid: int) -> float:
    """User plus system CPU seconds of a process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def client(url: str, world: dict[str, Any], secret: str, emulator: int) -> dict[str, Any]:
    """One run: snapshot, then confirm the leavers; the first reads timed apart."""
    from pydantic import SecretStr

    from offboard.adapters.keycloak import KeycloakSource
    from offboard.adapters.keycloak import confirmation as confirming
    from offboard.core.identities import IdentityId

    figures: dict[str, Any] = {}
    first_reads = confirming.Confirmer._first_reads

    async def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
        wall, cpu, served = time.perf_counter(), time.process_time(), cpu_of(emulator)
        try:
            return await first_reads(self, *args, **kwargs)
        finally:
            figures["first_wall"] = time.perf_counter() - wall
            figures["first_cpu"] = time.process_time() - cpu
            figures["first_emulator_cpu"] = cpu_of(emulator) - served

    confirming.Confirmer._first_reads = timed  # type: ignore[method-assign]
    ids = world["identity_ids"]
    leavers = [IdentityId(ids[n]) for n in sorted(world["disabled"] + world["deleted"])]
    async with KeycloakSource(url, "offboard-test", "offboard", SecretStr(secret)) as source:
        wall, cpu = time.perf_counter(), time.process_time()
        snapshot = await source.snapshot()
        listed_wall, listed_cpu = time.perf_counter(), time.process_time()
        confirmed = await source.confirm(snapshot, leavers)
        done_wall, done_cpu = time.perf_counter(), time.process_time()
    figures |= {
        "list_wall": listed_wall - wall,
        "list_cpu": listed_cpu - cpu,
        "confirm_wall": done_wall - listed_wall,
        "confirm_cpu": done_cpu - listed_cpu,
        "confirmed": sum(identity.disable_confirmed for identity in confirmed.identities),
        "deleted": len(confirmed.deleted),
    }
    figures["rounds_wall"] = figures["confirm_wall"] - figures["first_wall"]
    return figures


def one_run(url: str, manifest: Path, emulator: int, source: str) -> dict[str, Any]:
    from _harness import CLIENT_SECRET

    env = dict(os.environ, PYTHONPATH=source) if source else dict(os.environ)
    command = [sys.executable, __file__, "--client", url, str(manifest), CLIENT_SECRET,
               str(emulator)]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    if sys.argv[1:2] == ["--client"]:
        address, world_file, secret, pid = sys.argv[2:6]
        world = json.loads(Path(world_file).read_text())
        print(json.dumps(asyncio.run(client(address, world, secret, int(pid)))))
        return
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5, help="runs per source (median shown)")
    parser.add_argument("--against", default="", metavar="SRC", help="another src folder")
    options = parser.parse_args()

    from _harness import LOOPBACK, _serve_keycloak, child_process
    from offboard_emulators.common.server import free_port

    sources = ["", options.against] if options.against else [""]
    for folder in (str(Path(__file__).parents[1] / "src"), *sources[1:]):
        subprocess.run([sys.executable, "-m", "compileall", "-q", folder], check=True)
    runs: dict[str, list[dict[str, Any]]] = {source: [] for source in sources}
    with tempfile.TemporaryDirectory() as scratch:
        port, manifest = free_port(), Path(scratch) / "keycloak.json"
        arguments = (port, options.people, 50, str(manifest))
        with child_process(_serve_keycloak, arguments, port) as emulator:
            for n in range(options.runs):
                for source in sources if n % 2 == 0 else sources[::-1]:
                    url = f"http://{LOOPBACK}:{port}"
                    runs[source].append(one_run(url, manifest, emulator, source))
    print(f"{'source':<10}" + "".join(f"{key:>20}" for key in SHOWN),
          f"  (seconds, median of {options.runs}, {options.people:,} people)")  # fmt: skip
    for source, done in runs.items():
        cells = [f"{statistics.median(run[key] for run in done):.3f}" for key in SHOWN]
        print(f"{'against' if source else 'this':<10}" + "".join(f"{c:>20}" for c in cells))
        print(f"{'':<10}confirmed {done[0]['confirmed']}, deleted {done[0]['deleted']}")


if __name__ == "__main__":
    main()
