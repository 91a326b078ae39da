"""Link each joiner offboard provisioned to the Atlassian account their SCIM create named.

Atlassian's answer to a SCIM create names the account it made or linked
(``atlassianAccountId``). Without recording that pair at once, a person who leaves before
the next reconciliation has never been seen linked, so the deprovisioning planner calls
them day-one backlog (``left-before-watching``) and waits for a human: the very joiner
offboard just gave access would keep it. The pair is as certain as a link gets (offboard
wrote the record, marked with the Keycloak id), so it is stored like a matched one.

Only a person with no link yet, and an account nobody is linked to, are paired: anything
else is for the reconciliation's rules (ambiguity, re-created users) to decide.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from offboard.core.accounts import AccountId
from offboard.core.identities import IdentityId
from offboard.core.links import Link
from offboard.ports import Store


def link_joiners(
    created: Mapping[str, tuple[str, str | None]], store: Store, now: datetime
) -> list[Link]:
    """Store a link per created SCIM user whose person and account are both unlinked."""
    if not created:
        return []
    taken_people = {link.identity_id for link in store.links(identity_ids=list(created))}
    accounts = [account for account, _ in created.values()]
    taken_accounts = {link.account_id for link in store.links(account_ids=accounts)}
    new = [
        Link(IdentityId(identity), AccountId(account), email, now)
        for identity, (account, email) in sorted(created.items())
        if identity not in taken_people and account not in taken_accounts
    ]
    if new:
        store.upsert_links(new)
    return new
