"""The fault matrix, full reconciliation when offboard's own process or store fails: SIGKILL
mid-apply, a locked store, a read-only store, a full disk; then a clean run after it.

Each row is judged the same way (``Rig.verdict``): every true leaver's account inactive at the
end, no non-leaver's account written to or changed, no journal intent left without an
outcome and no vendor effect without its journaled success, no effect carried out twice.
``benchmarks/faults.py`` runs ``tests/faults`` and writes ``docs/reliability.md`` from the rows.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from offboard.core.journal import Phase
from offboard.store import open_store
from offboard_emulators.common.faults import FaultConfig
from tests.faults.helpers import attempt
from tests.faults.rig import Rig, record, running_rig

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).parents[2]


async def test_sigkill_during_apply(tmp_path: Path) -> None:
    with running_rig(tmp_path) as rig:
        rig.at.faults.configure(FaultConfig(latency_ms=1000))
        code = await asyncio.to_thread(_kill_mid_apply, rig)
        store = rig.open()
        try:
            left_open = len(store.unfinished())
        finally:
            store.close()
        rig.reports.append(f"child killed (exit {code}), {left_open} action(s) left open")
        assert left_open > 0, "the kill missed the apply: this row would recover nothing"
        rig.at.faults.configure(FaultConfig())
        await rig.reconcile()
        record(rig.verdict("SIGKILL of offboard during apply (subprocess)", "reconcile"))


def _kill_mid_apply(rig: Rig) -> int:
    """Start a reconciliation in a child process and SIGKILL it inside its first action."""
    command = [sys.executable, "-m", "tests.faults.kill_child", rig.kc_url, rig.at_url,
               str(rig.store_path)]  # fmt: skip
    child = subprocess.Popen(command, cwd=ROOT)
    try:
        _wait_for_intent(rig.store_path, child)
        time.sleep(0.5)  # mid-write: each request takes 1 s, and an action is two
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(30)
    return child.returncode


def _wait_for_intent(store_path: Path, child: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and child.poll() is None:
        store = open_store(store_path)
        try:
            if any(r.phase is Phase.INTENT for r in store.journal()):
                return
        finally:
            store.close()
        time.sleep(0.05)
    raise AssertionError("the child never journaled an intent")


async def test_store_locked_by_another_writer(tmp_path: Path) -> None:
    with running_rig(tmp_path) as rig:
        holder = sqlite3.connect(rig.store_path, check_same_thread=False)
        holder.execute("BEGIN EXCLUSIVE")
        release = threading.Timer(3.0, holder.rollback)
        release.start()
        try:
            await attempt(rig, rig.reconcile())
        finally:
            release.join()
            holder.close()
        await rig.reconcile()
        record(rig.verdict("store file locked by another writer for 3 s", "reconcile"))


@contextmanager
def mounted(kind: str, target: Path, *options: str) -> Iterator[None]:
    """A mount (root only): skipped with the reason when the machine does not allow it."""
    target.mkdir(exist_ok=True)
    args = ["mount", *options, target] if kind == "bind" else ["mount", "-t", kind, *options,
                                                                kind, target]  # fmt: skip
    if os.geteuid() != 0 or subprocess.run(args, capture_output=True).returncode != 0:
        pytest.skip(f"cannot mount {kind} on {target} (needs root and mount rights)")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", target], check=False)


async def test_store_read_only(tmp_path: Path) -> None:
    with running_rig(tmp_path, tmp_path / "ro" / "state.db") as rig:
        readonly = tmp_path / "ro"
        with mounted("bind", readonly, "--bind", str(readonly)):
            remount = ["mount", "-o", "remount,ro,bind", str(readonly)]
            await asyncio.to_thread(subprocess.run, remount, check=True)
            await attempt(rig, rig.reconcile())
        await rig.reconcile()
        record(rig.verdict("store file on a read-only mount (then writable)", "reconcile"))


async def test_disk_full_on_the_journal(tmp_path: Path) -> None:
    tmp, small = tmp_path, tmp_path / "small"
    with mounted("tmpfs", small, "-o", "size=16m"), running_rig(tmp, small / "state.db") as rig:
        filler = small / "filler"
        _fill(filler)
        await attempt(rig, rig.reconcile())
        filler.unlink()
        await rig.reconcile()
        record(rig.verdict("disk full under the store (16 MB tmpfs, filled)", "reconcile"))


def _fill(path: Path) -> None:
    """Write zeros until the file system says ENOSPC (unbuffered, so close cannot fail)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(descriptor, b"\0" * 65536)
    except OSError:
        pass
    finally:
        os.close(descriptor)
