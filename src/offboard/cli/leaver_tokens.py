"""`offboard plan`'s note on leavers' API tokens (``licences.revoke_leaver_tokens``).

Apart from the licence wiring so that a plan does not import the licence pass, its mail and
the usage reader unless the setting asks for the count.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from offboard.ports import OffboardError

if TYPE_CHECKING:
    from offboard.core.plan import Plan
    from offboard.ports import AccountDirectory


async def leaver_token_counts(directory: AccountDirectory, plan: Plan) -> dict[str, int]:
    """API tokens held by each account the plan deprovisions (read only), by email or id."""
    from offboard.adapters.atlassian import AtlassianDirectory
    from offboard.adapters.atlassian_org.usage import UsageReader

    if not isinstance(directory, AtlassianDirectory):
        return {}
    usage = UsageReader(directory.org)
    counts: dict[str, int] = {}
    for action in plan.deprovisioning:
        try:
            held = len(await usage.api_tokens(action.account_id))
        except OffboardError:
            continue  # an unmanaged account's tokens cannot be listed
        if held:
            counts[action.email or action.account_id] = held
    return counts


def token_lines(counts: dict[str, int]) -> list[str]:
    """One line per leaver holding API tokens (revoked by the licence pass)."""
    return [
        f"{who} holds {held} API token{'s' if held != 1 else ''}: revoked by the licence pass "
        "once deprovisioned (licences.revoke_leaver_tokens)"
        for who, held in sorted(counts.items())
    ]
