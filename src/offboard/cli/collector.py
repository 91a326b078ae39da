"""The cyclic garbage collector, paced for a process that builds large snapshots.

CPython collects its youngest generation every 700 net allocations of container objects,
and each collection of the oldest walks every live object. A full run at 50,000 people holds
a few hundred thousand live objects (the Keycloak listing, the links, the Atlassian reads)
built in bursts of millions of allocations: with the default pace the collector ran about
800 times and took 0.45 s of a 4.9 s run, most of it walking the same snapshots again and
again (``benchmarks/bench_peer.py``, measured with ``gc.callbacks``); at the pace below it
runs a few times and takes 0.1 s.

Almost nothing offboard makes is cyclic (frozen dataclasses, dicts and lists of strings), so
a slower pace leaves little garbage waiting: at most :data:`YOUNGEST` container objects
between two collections. The daemon keeps the same pace; its passes build the same
snapshots, and between passes it allocates little.
"""

from __future__ import annotations

import gc

YOUNGEST = 50_000
"""Net allocations of container objects between two collections of the youngest generation
(CPython's default: 700)."""
MIDDLE = 20
"""Collections of the youngest generation between two of the middle one (default 10)."""
OLDEST = 20
"""Collections of the middle generation between two considered for the oldest (default 10;
CPython also waits until a quarter of the long-lived objects are new since the last)."""


def pace_for_snapshots() -> None:
    """Set the collector's pace for the rest of the process."""
    gc.set_threshold(YOUNGEST, MIDDLE, OLDEST)
