"""Every benchmark script answers ``--help`` at once: its imports resolve and it does no work.

Benchmarks run by hand, not in the suite, so a script broken by a changed helper (as
``bench_startup.py`` was twice) or one that starts building an image on ``--help`` (as
``bench_image_size.py`` did) goes unseen until someone needs its figures.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPTS = sorted(p for p in BENCHMARKS.glob("*.py") if not p.name.startswith("_"))


def test_every_benchmark_script_is_found() -> None:
    assert len(SCRIPTS) > 20


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_a_benchmark_script_answers_help_without_running(script: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(script), "--help"],
        capture_output=True, text=True, timeout=60, cwd=BENCHMARKS.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert script.name in done.stdout + done.stderr
