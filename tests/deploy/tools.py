"""Running the repository's scripts from the deployment tests; tools missing skip, except in CI."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI") == "true"


def script(
    *args: str, timeout: float = 600, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run ``scripts/<args>`` from the repository root; output captured as text."""
    return subprocess.run(
        [str(ROOT / "scripts" / args[0]), *args[1:]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=check,
    )


def missing(what: str, why: str) -> None:
    """Skip with the reason on a laptop; fail in CI, where every deployment test must run."""
    message = f"{what} is not available here ({why}); scripts/test installs it"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)
