"""Links in the store: saved from a plan before any request, updated after each success."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from offboard.core.links import Link
from offboard.core.plan import Action, Plan
from offboard.core.policy import DEPROVISIONING_KINDS, REPROVISIONING_KINDS, ActionKind

LinkKey = tuple[str, str]


def key_of(link: Link) -> LinkKey:
    return (link.identity_id, link.account_id)


def planned_links(plan: Plan, known: dict[LinkKey, Link], now: datetime) -> list[Link]:
    """The links a plan asks to save: LINK/RELINK actions, then its explicit link updates."""
    changed: dict[LinkKey, Link] = {}
    for action in plan.actions:
        key = (action.identity_id, action.account_id)
        existing = changed.get(key) or known.get(key)
        if action.kind is ActionKind.LINK and existing is None:
            changed[key] = Link(action.identity_id, action.account_id, action.email, now)
        elif action.kind in (ActionKind.LINK, ActionKind.RELINK) and existing is not None:
            changed[key] = replace(existing, email=action.email)
    for link in plan.link_updates:
        changed[key_of(link)] = link  # the planner's own view of the link wins
    return list(changed.values())


def link_after_success(link: Link | None, action: Action, now: datetime) -> Link:
    """The link once ``action`` took effect: remembers whether offboard took access away."""
    base = link or Link(action.identity_id, action.account_id, action.email, now)
    if action.kind is ActionKind.DELETE:
        return replace(
            base,
            deactivated_by_offboard=True,
            deactivated_at=base.deactivated_at or now,
            deactivation_kind=base.deactivation_kind or action.kind.value,
        )
    if action.kind in DEPROVISIONING_KINDS:
        return replace(
            base,
            deactivated_by_offboard=True,
            deactivated_at=now,
            deactivation_kind=action.kind.value,
        )
    if action.kind in REPROVISIONING_KINDS:
        return replace(
            base,
            deactivated_by_offboard=False,
            deactivated_at=None,
            deactivation_kind=None,
            leaving_since=None,
        )
    return base
