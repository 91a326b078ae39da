"""Links in the store: saved from a plan before any request, updated after each success.

How a successful action changes a link is said once, by ``core.simulation.link_after_action``.
"""

from __future__ import annotations

from datetime import datetime

from offboard.core.links import Link
from offboard.core.plan import Action, Plan
from offboard.core.policy import LINK_KINDS
from offboard.core.simulation import link_after_action

LinkKey = tuple[str, str]


def key_of(link: Link) -> LinkKey:
    return (link.identity_id, link.account_id)


def planned_links(plan: Plan, known: dict[LinkKey, Link], now: datetime) -> list[Link]:
    """The links a plan asks to save: LINK/RELINK actions, then its explicit link updates."""
    changed: dict[LinkKey, Link] = {}
    for action in plan.actions:
        if action.kind not in LINK_KINDS:
            continue
        key = (action.identity_id, action.account_id)
        after = link_after_action(changed.get(key) or known.get(key), action, now)
        if after is not None:
            changed[key] = after
    for link in plan.link_updates:
        changed[key_of(link)] = link  # the planner's own view of the link wins
    return list(changed.values())


def link_after_success(link: Link | None, action: Action, now: datetime) -> Link:
    """The link once ``action`` took effect: remembers whether offboard took access away.

    An account acted on without a stored link (which the planner should not produce) still
    gets one, so that offboard remembers it took the access away.
    """
    base = link or Link(action.identity_id, action.account_id, action.email, now)
    return link_after_action(base, action, now) or base
