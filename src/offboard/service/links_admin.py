"""Operator acts on links: list them, pair by hand, unpair, decide an ambiguous identity.

One implementation for every face (DESIGN.md section 4). Each change reads both sides
fresh first (the Keycloak user by id, the Atlassian account by id or email), refuses what
would create a conflict (an account paired twice, a person paired twice, a pairing the
planner would undo), and journals who and why in the same transaction as the change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum

from offboard.core.accounts import Account, AccountId
from offboard.core.identities import Identity, IdentityId, normalise_email
from offboard.core.journal import JournalRecord, Phase, Status
from offboard.core.links import Link
from offboard.core.plan import Rule
from offboard.ports import Store
from offboard.service.operator import Act, OperatorRefusedError, Sides


class LinkState(StrEnum):
    """What a link says about its account, for filtering."""

    ACTIVE = "active"
    LEAVING = "leaving"
    """A leaver inside the grace period."""
    DEACTIVATED = "deactivated"
    """offboard took the account's access away."""
    CUT_OFF = "cut-off"
    """An operator cut the account off (only a human gives it back)."""


def state_of(link: Link) -> LinkState:
    if link.cut_off_by_hand:
        return LinkState.CUT_OFF
    if link.deactivated_by_offboard:
        return LinkState.DEACTIVATED
    if link.leaving_since is not None:
        return LinkState.LEAVING
    return LinkState.ACTIVE


def list_links(
    store: Store,
    *,
    person: str | None = None,
    account: str | None = None,
    state: LinkState | None = None,
) -> list[Link]:
    """Links filtered by person (Keycloak id or email), account id and state."""
    if account is not None:
        found: Iterable[Link] = store.links(account_ids=[account.strip()])
    elif person is not None and "@" not in person:
        found = store.links(identity_ids=[person.strip().lower()])
    else:
        found = store.links()
    email = normalise_email(person) if person is not None and "@" in person else None
    return [
        link
        for link in found
        if (email is None or normalise_email(link.email) == email)
        and (person is None or "@" in person or link.identity_id == person.strip().lower())
        and (state is None or state_of(link) is state)
    ]


async def set_link(identity_id: str, account_id: str, act: Act, sides: Sides) -> Link:
    """Pair a Keycloak user with an Atlassian account by hand (rule linked-by-hand)."""
    identity = await _identity(IdentityId(identity_id.strip().lower()), sides)
    account = await _account(AccountId(account_id.strip()), sides)
    return _save(identity, account, act, sides, f"paired by hand {act.words}")


async def resolve_identity(email: str, identity_id: str, act: Act, sides: Sides) -> Link:
    """Several Keycloak users claim ``email``: the account holding it is this one's."""
    wanted = normalise_email(email)
    identity = await _identity(IdentityId(identity_id.strip().lower()), sides)
    if wanted is None or identity.normalised_email != wanted:
        raise OperatorRefusedError(
            f"Keycloak user {identity.id} has the email {identity.email or '(none)'}, not "
            f"{email}: choose one of the users that claim {email}"
        )
    accounts = await sides.directory.find_by_email(wanted)
    if len(accounts) != 1:
        found = "no Atlassian account" if not accounts else "several Atlassian accounts"
        raise OperatorRefusedError(f"{found} with the email {wanted}: nothing one can give")
    detail = f"decided among the Keycloak users claiming {wanted} {act.words}"
    return _save(identity, accounts[0], act, sides, detail)


async def remove_link(identity_id: str, account_id: str | None, act: Act, sides: Sides) -> Link:
    """Forget a pairing; refused when it would lose what offboard did or be undone at once."""
    key = identity_id.strip().lower()
    links = sides.store.links(identity_ids=[key])
    if account_id is not None:
        links = [link for link in links if link.account_id == account_id.strip()]
    if len(links) != 1:
        found = "no link" if not links else "several links (pass the account id)"
        raise OperatorRefusedError(f"Keycloak user {key} has {found}")
    link = links[0]
    if link.deactivated_by_offboard:
        raise OperatorRefusedError(
            f"offboard took the access of account {link.account_id} away; removing the link "
            "would forget that, and it could never be given back. Give it back first "
            "(`offboard reactivate` or `offboard cutoff lift`)"
        )
    identity = await sides.source.read_identity(link.identity_id)
    account = await sides.directory.read_account(link.account_id)
    if (
        identity is not None
        and account is not None
        and identity.enabled
        and account.has_access
        and identity.normalised_email is not None
        and identity.normalised_email == account.normalised_email
    ):
        raise OperatorRefusedError(
            f"Keycloak user {identity.username} and account {account.id} share the email "
            f"{identity.normalised_email}: the next plan would pair them again. Change the "
            "email on the wrong side first"
        )
    pair = [(link.identity_id, link.account_id)]
    _journaled(link, Rule.UNLINKED_BY_HAND, "unlink", f"unpaired by hand {act.words}", act,
               sides, lambda record: sides.store.remove_links(pair, [record]))  # fmt: skip
    return link


def _save(identity: Identity, account: Account, act: Act, sides: Sides, detail: str) -> Link:
    """Refuse a conflict with the links already stored; otherwise save and journal."""
    store = sides.store
    of_account = store.links(account_ids=[account.id])
    of_identity = store.links(identity_ids=[identity.id])
    if any(link.identity_id == identity.id for link in of_account):
        raise OperatorRefusedError(f"{identity.id} and {account.id} are already paired")
    if of_account:
        other = of_account[0].identity_id
        raise OperatorRefusedError(
            f"account {account.id} is paired with Keycloak user {other}: one account, one "
            f"person. If that is wrong, `offboard links remove {other} {account.id}` first"
        )
    if of_identity:
        paired = of_identity[0].account_id
        raise OperatorRefusedError(
            f"Keycloak user {identity.id} is paired with account {paired}. If that is wrong, "
            f"`offboard links remove {identity.id} {paired}` first"
        )
    if identity.service_account_client_id is not None:
        raise OperatorRefusedError(f"{identity.username} is a client's service account")
    email = identity.normalised_email or account.normalised_email
    link = Link(identity.id, account.id, email, linked_at=sides.clock.now(), linked_by_hand=True)
    _journaled(link, Rule.LINKED_BY_HAND, "link", detail, act, sides,
               lambda record: store.append_all([record], [link]))  # fmt: skip
    return link


def _journaled(
    link: Link, rule: Rule, kind: str, detail: str, act: Act, sides: Sides,
    write: Callable[[JournalRecord], None],
) -> None:  # fmt: skip
    """Write the change with its journal line, in a run of its own (`journal runs` lists it)."""
    store, now = sides.store, sides.clock.now()
    run_id = store.start_run(f"links-{kind}", now)
    record = JournalRecord(
        at=now,
        run_id=run_id,
        action_key=f"{kind}:{link.identity_id}:{link.account_id}",
        phase=Phase.OUTCOME,
        status=Status.SUCCEEDED,
        kind=kind,
        identity_id=link.identity_id,
        account_id=link.account_id,
        email=link.email,
        rule=rule.value,
        reason=act.words,
        detail=detail,
    )
    try:
        write(record)
    except BaseException:
        store.finish_run(run_id, sides.clock.now(), "failed", {})
        raise
    summary: dict[str, object] = {"actor": act.actor, "reason": act.reason, kind: detail}
    store.finish_run(run_id, sides.clock.now(), "applied", summary)


async def _identity(identity_id: IdentityId, sides: Sides) -> Identity:
    identity = await sides.source.read_identity(identity_id)
    if identity is None:
        raise OperatorRefusedError(f"Keycloak has no user {identity_id} (read just now: 404)")
    return identity


async def _account(account_id: AccountId, sides: Sides) -> Account:
    account = await sides.directory.read_account(account_id)
    if account is None:
        raise OperatorRefusedError(f"Atlassian has no account {account_id} (read just now)")
    return account
