"""Print the size of the offboard container image and of the venv in it.

Builds the image first with ``scripts/image build`` (buildah, offline base from Debian
packages; cached, so a warm run rebuilds only offboard's layers), then measures the root
filesystem of a container from it. Run: ``python benchmarks/bench_image_size.py``.
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TAG = "localhost/offboard:dev"


def image(*args: str) -> str:
    done = subprocess.run(
        [str(ROOT / "scripts" / "image"), *args],
        capture_output=True, text=True, check=True, timeout=1800,
    )  # fmt: skip
    return done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--tag", default=TAG, help=f"the image's tag (default {TAG})")
    options = parser.parse_args()
    tag = options.tag
    image("build", tag)
    total, venv = (int(n) for n in image("size", tag).split())
    base = total - venv
    print(f"image {tag}: root filesystem {total / 1e6:.1f} MB (uncompressed)")
    print(f"  venv /opt/offboard (offboard and its runtime dependencies): {venv / 1e6:.1f} MB")
    print(f"  base (Debian minbase with python3, python3-venv): {base / 1e6:.1f} MB")
    image("clean")


if __name__ == "__main__":
    main()
