"""A release: the wheel and sdist build, pass `twine check`, and the wheel installs with pipx
into a clean environment where `offboard --version` and `offboard demo` run."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.deploy.tools import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def run(*args: str | Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=800, env=env, cwd=ROOT
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", out, ROOT)
    return out


def test_wheel_and_sdist_pass_twine_check(dist: Path) -> None:
    files = sorted(dist.iterdir())
    assert sorted(f.suffix for f in files) == [".gz", ".whl"]
    output = run(sys.executable, "-m", "twine", "check", "--strict", *files)
    assert output.count("PASSED") == 2
    wheel = zipfile.ZipFile(next(dist.glob("*.whl")))
    names = wheel.namelist()
    assert "offboard/store/migrations/versions/0001_initial.py" in names  # migrations ship
    assert not any(name.startswith("tests/") for name in names)
    with tarfile.open(next(dist.glob("*.tar.gz"))) as sdist:
        assert any(name.endswith("/CHANGELOG.md") for name in sdist.getnames())


def test_the_wheel_installs_with_pipx_and_runs(dist: Path, tmp_path: Path) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OFFBOARD_", "VIRTUAL_ENV", "PIPX_"))
    }
    env |= {
        "PIPX_HOME": str(tmp_path / "pipx"),
        "PIPX_BIN_DIR": str(tmp_path / "bin"),
        "PIPX_MAN_DIR": str(tmp_path / "man"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    wheel = next(dist.glob("*.whl"))
    run(sys.executable, "-m", "pipx", "install", "--python", sys.executable, wheel, env=env)
    offboard = tmp_path / "bin" / "offboard"
    assert run(offboard, "--version", env=env).strip() == f"offboard {version('offboard')}"
    assert "every action done and read back" in run(offboard, "demo", env=env)
