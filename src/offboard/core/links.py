"""Links: the remembered pairing of a Keycloak identity with an Atlassian account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from offboard.core.accounts import AccountId
from offboard.core.identities import IdentityId


@dataclass(frozen=True, slots=True)
class Link:
    """Keycloak id to account id, with what offboard must remember about the pair.

    The last known email lets a user deleted in Keycloak still be found in Atlassian, and a
    changed email in Keycloak does not break the pairing.
    """

    identity_id: IdentityId
    account_id: AccountId
    email: str | None
    linked_at: datetime
    deactivated_by_offboard: bool = False
    """Set when offboard itself took the account's access away; reactivation needs it."""
    deactivated_at: datetime | None = None
    deactivation_kind: str | None = None
    """The ActionKind value that took access away, so the matching undo can be chosen."""
    leaving_since: datetime | None = None
    """When the identity was first seen as a leaver, for the grace period."""
    linked_by_hand: bool = False
    """An operator made this pairing (rule linked-by-hand): other claimants are settled."""
    cut_off_by_hand: bool = False
    """An operator cut the account off (rule manual-cutoff): only a human gives it back."""
