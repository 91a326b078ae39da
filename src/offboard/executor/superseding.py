"""What an operator's act during a long apply took over, just before each write is sent.

In the daemon's full pass an operator's one-person act (a cut-off, a lift) runs between two
of the pass's writes (``service.gate.PassGate``). The pass planned from reads older than the
act, so it must send nothing more about that person: an action on their identity or account
is skipped, and a SCIM membership change naming them among others goes out without them
(the others still follow). Each skip is journaled with the request that took it over; a
member left out gets a record under their own id, so their journal shows it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from offboard.core.identities import IdentityId
from offboard.core.journal import JournalRecord, Phase, Status
from offboard.core.plan import Action
from offboard.executor.sending import ActionSender


async def taken_over(action: Action, sender: ActionSender) -> tuple[Action, str | None]:
    """``action`` as it may still be sent (less the members an act took over), or why it must
    not be sent at all (its person or account, or everyone it names, was taken over)."""
    superseded = sender.preflight.superseded(action)
    if superseded is not None:
        return action, superseded
    kept, left_out = sender.preflight.without_superseded(action)
    if not left_out:
        return action, None
    await sender.journal(*_members_skipped(action, left_out, sender))
    if any(name == "member" for name, _ in kept.attributes):
        return kept, None
    return action, next(iter(left_out.values()))  # nobody left to add or remove


def _members_skipped(
    action: Action, left_out: Mapping[str, str], sender: ActionSender
) -> list[JournalRecord]:
    """One skipped record per member left out, under that person's id."""
    return [
        sender.record(
            dataclasses.replace(action, identity_id=IdentityId(member)),
            Phase.OUTCOME,
            Status.SKIPPED,
            detail=why,
        )
        for member, why in left_out.items()
    ]
