"""Settle what a crash left unfinished: read each account and record what really happened."""

from __future__ import annotations

from offboard.core.accounts import Account, AccountId
from offboard.core.identities import IdentityId
from offboard.core.journal import JournalRecord, Phase, Status
from offboard.core.links import Link
from offboard.core.plan import Action, Rule
from offboard.core.policy import PROVISIONING_KINDS, ActionKind
from offboard.executor.linking import key_of, link_after_success
from offboard.executor.live_runs import is_live
from offboard.executor.outcomes import Outcome
from offboard.executor.readback import ReadBackPolicy, target_state_holds
from offboard.executor.records import action_record
from offboard.executor.sending import account_state, describe
from offboard.ports import AccountDirectory, Clock, Fence, Store


def action_of(intent: JournalRecord) -> Action:
    """The action an INTENT record speaks for, rebuilt from the journal alone."""
    return Action(
        kind=ActionKind(intent.kind),
        identity_id=IdentityId(intent.identity_id or ""),
        account_id=AccountId(intent.account_id or ""),
        email=intent.email,
        rule=Rule(intent.rule),
        reason=intent.reason,
    )


RECOVERY_PATIENCE = ReadBackPolicy(attempts=4)
"""A write sent just before a crash may not show yet (eventual consistency): read a few
times, about 2 s in all, before calling it not done and sending it again."""


async def recover(
    *,
    directory: AccountDirectory,
    store: Store,
    clock: Clock,
    patience: ReadBackPolicy = RECOVERY_PATIENCE,
    fence: Fence | None = None,
) -> list[Outcome]:
    """For each unfinished INTENT, read the account and journal RECOVERED.

    ``verified``: the wanted state holds (the link is updated as after a success);
    ``pending``: it still does not after ``patience``, and the next apply of the plan
    sends the action again. An account that cannot be read now stays unfinished, for the
    next recovery. With a ``fence``, a replaced leader's records are refused
    (``FenceLostError``). Intents of runs this process is applying now are in flight, not
    crashed, and are left to their run (``live_runs``).
    """
    unfinished = [intent for intent in store.unfinished() if not is_live(intent.run_id)]
    involved = {intent.identity_id for intent in unfinished if intent.identity_id}
    links = {key_of(link): link for link in store.links(identity_ids=involved)} if involved else {}
    outcomes: list[Outcome] = []
    for intent in unfinished:
        action = action_of(intent)
        if action.kind in PROVISIONING_KINDS:
            # Its journal record does not carry what it sends; the next provisioning plan
            # reads the directory afresh and plans whatever is still missing.
            detail = "provisioning write: settled by the next provisioning plan"
            store.append(_recovered(intent, action, Status.PENDING, detail, clock))
            outcomes.append(Outcome(action, Status.PENDING, detail))
            continue
        try:
            account, done = await _settle(directory, action, patience)
        except Exception as error:
            outcomes.append(Outcome(action, Status.PENDING, f"not settled: {describe(error)}"))
            continue
        status = Status.VERIFIED if done else Status.PENDING
        detail = ("done" if done else "not done") + f" ({account_state(account)})"
        store.append(_recovered(intent, action, status, detail, clock), fence=fence)
        if done:
            _remember(store, links, action, clock, fence)
        outcomes.append(Outcome(action, status, detail))
    return outcomes


async def _settle(
    directory: AccountDirectory, action: Action, patience: ReadBackPolicy
) -> tuple[Account | None, bool]:
    reads = 0
    while True:
        reads += 1
        account = await directory.read_account(action.account_id)
        if target_state_holds(action, account) or reads >= patience.attempts:
            return account, target_state_holds(action, account)
        await patience.sleep(patience.delay(reads))


def _recovered(
    intent: JournalRecord, action: Action, status: Status, detail: str, clock: Clock
) -> JournalRecord:
    return action_record(
        action,
        at=clock.now(),
        run_id=intent.run_id,
        fingerprint=intent.fingerprint,
        phase=Phase.RECOVERED,
        status=status,
        detail=detail,
    )


def _remember(
    store: Store,
    links: dict[tuple[str, str], Link],
    action: Action,
    clock: Clock,
    fence: Fence | None,
) -> None:
    key = (action.identity_id, action.account_id)
    links[key] = link_after_success(links.get(key), action, clock.now())
    store.append_all((), [links[key]], fence=fence)
