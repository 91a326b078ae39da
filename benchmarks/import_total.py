"""Sum of ``python -X importtime`` self times in a log, with the largest cumulative imports.

python -X importtime -m offboard apply --help 2> imports.log >/dev/null
python benchmarks/import_total.py imports.log
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main(path: str, top: int = 15) -> None:
    rows = [
        line.split("|")
        for line in Path(path).read_text(errors="replace").splitlines()
        if line.startswith("import time:") and "self [us]" not in line
    ]
    total = sum(int(row[0].split(":")[1]) for row in rows)
    print(f"imports: {total / 1e6:.3f} s in all ({len(rows)} modules)")
    for row in sorted(rows, key=lambda r: -int(r[1]))[:top]:
        print(f"{int(row[1]) / 1e6:7.3f} s  {row[2].rstrip()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[2:]),
    )  # fmt: skip
    parser.add_argument("log", help="the stderr of a `python -X importtime` run")
    parser.add_argument("--top", type=int, default=15, help="largest imports shown")
    options = parser.parse_args()
    main(options.log, options.top)
