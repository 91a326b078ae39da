"""Files the commands write for people: plans and journal exports, readable by the owner only.

They hold every linked person's email and ids, so they are 0600 whatever the umask, and an
existing file written over is tightened to 0600 too.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_FILE = 0o600


def write_private(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path``, created or truncated, mode 0600; OSError on failure."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        os.fchmod(out.fileno(), PRIVATE_FILE)  # open's mode is cut by the umask
        out.write(text)
