"""A stable SHA-256 over what a plan decides, so a reviewed plan can be checked before apply.

It covers each action (kind, ids, email, rule), each entry (status, rule, ids, email), each
guard's verdict and limit (the policy's thresholds), and each link update (ids, email and
flags). It leaves out what changes without changing a decision: the creation time, the
counts of identities seen, a guard's observed value, the wording of reasons (they carry the
planning time), and anything about identities the plan does not touch. So a new hire does
not invalidate a reviewed plan, while any change to what would be done does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from offboard.core.links import Link
from offboard.core.plan import Action, Entry, GuardResult, Plan


def compute_fingerprint(
    actions: Iterable[Action],
    entries: Iterable[Entry],
    guards: Iterable[GuardResult],
    link_updates: Iterable[Link],
    version: int,
) -> str:
    """Hex SHA-256 of a canonical JSON rendering of the decisions."""
    body = {
        "version": version,
        "actions": [
            [str(a.kind), a.identity_id, a.account_id, a.email, str(a.rule)]
            + ([[list(pair) for pair in a.attributes]] if a.attributes else [])
            for a in actions
        ],
        "entries": [
            [str(e.status), str(e.rule), e.identity_id, e.account_id, e.email] for e in entries
        ],
        "guards": [[str(g.name), g.tripped, g.overridden, g.limit] for g in guards],
        "links": [
            [
                link.identity_id,
                link.account_id,
                link.email,
                link.deactivated_by_offboard,
                link.deactivation_kind,
                link.leaving_since is not None,
                # Only when set, so that plans made before the flag existed keep their print.
                *(["cut-off-by-hand"] if link.cut_off_by_hand else []),
                *(["linked-by-hand"] if link.linked_by_hand else []),
            ]
            for link in link_updates
        ],
    }
    canonical = json.dumps(body, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def fingerprint_of(plan: Plan) -> str:
    """Recompute the fingerprint from a plan's contents (e.g. one read back from JSON)."""
    return compute_fingerprint(
        plan.actions, plan.entries, plan.guards, plan.link_updates, plan.version
    )
