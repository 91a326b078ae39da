"""The runs this process is applying right now, so that recovery leaves them alone.

Recovery settles the intents a crash left without an outcome. In a running daemon another
kind of intent has no outcome yet: the one a concurrent apply of this same process is
sending at this moment (waves run side by side, a full pass may run beside them). Taking it
for a crash read the account by id, up to four times with pauses, before the new run could
even plan (a wave of 3,000 people in six waves: 52 reads by id and seconds of delay), and
journaled RECOVERED for an action whose OUTCOME was still to come. A run is live from the
first to the last intent of its apply; only another process's runs, or runs of this one
that ended without settling (an error, a lost lease), are recovered.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator

_LIVE: Counter[str] = Counter()
"""Run id → applies of it in flight (a provisioning run applies in two phases)."""


@contextlib.contextmanager
def applying(run_id: str) -> Iterator[None]:
    """Mark ``run_id`` live for the duration of the block."""
    _LIVE[run_id] += 1
    try:
        yield
    finally:
        _LIVE[run_id] -= 1
        if _LIVE[run_id] <= 0:
            del _LIVE[run_id]


def is_live(run_id: str) -> bool:
    """Whether this process is applying ``run_id`` now (its intents are not a crash's)."""
    return _LIVE.get(run_id, 0) > 0
