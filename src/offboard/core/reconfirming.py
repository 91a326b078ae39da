"""Re-confirming an action from a fresh read of its person, just before it is sent.

A plan is a judgement made at one moment. When it is applied later (a daemon paused, a long
plan, a human who reviewed it for a while), the person may have come back: re-enabled in
Keycloak, or only locked out for a while. An action whose plan is older than a bound is
therefore judged again against a fresh read by id; this module says whether it still stands.
"""

from __future__ import annotations

from offboard.core.identities import Identity, Lockout
from offboard.core.plan import Action, Rule
from offboard.core.policy import DEPROVISIONING_KINDS, REPROVISIONING_KINDS


def reason_to_skip(action: Action, fresh: Identity | None) -> str | None:
    """Why ``action`` must not be sent now, given ``fresh`` (None: a confirmed 404), or None.

    Taking access away stands while the person is deleted or disabled for good; giving it
    back stands while they are enabled. A person who left the configured scope but is
    enabled is not re-judged here (scope needs the full policy): the next pass does that.
    An operator's cut-off stands whatever Keycloak says (that is what it is for).
    """
    if action.kind in DEPROVISIONING_KINDS:
        return _still_gone(action, fresh)
    if action.kind in REPROVISIONING_KINDS:
        if fresh is None:
            return "deleted in Keycloak since the plan was made"
        if not fresh.enabled:
            return "disabled again in Keycloak since the plan was made"
    return None


def _still_gone(action: Action, fresh: Identity | None) -> str | None:
    if action.rule is Rule.MANUAL_CUTOFF:
        return None  # the operator's decision, not a judgement of Keycloak's state
    if fresh is None:
        return None  # deleted, confirmed by a 404: still a leaver
    if fresh.enabled:
        if action.rule is Rule.IDENTITY_LEFT_SCOPE:
            return None
        return "enabled in Keycloak again since the plan was made"
    if fresh.lockout is Lockout.TEMPORARY:
        return "only temporarily locked out now, not disabled"
    return None


def needs_reconfirming(action: Action) -> bool:
    """Only requests that change someone's access are re-confirmed (not link bookkeeping)."""
    return action.kind in DEPROVISIONING_KINDS or action.kind in REPROVISIONING_KINDS
