"""Operator acts on one person: cut off now, and lift such a cut-off.

One implementation for every face (DESIGN.md section 4): the command line calls these
functions now, a web console will call the same ones. Each act is two steps so that a face
can show the plan and ask before acting: ``prepare_*`` reads both sides fresh and returns
a one-account plan (or refuses), ``carry_out`` applies it through the executor's
``apply_plan`` (so the guards, the budget, the journal and the read-back are those of every
run) and journals who did it and why.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import httpx

from offboard.core.accounts import Account, AccountId
from offboard.core.identities import Identity, IdentityId, normalise_email
from offboard.core.links import Link
from offboard.core.manual import OneAccount, cutoff_plan, lift_plan
from offboard.core.plan import GuardName, Plan
from offboard.core.policy import Policy
from offboard.executor import ApplyReport, apply_plan, recover
from offboard.executor.preflight import NO_PREFLIGHT, Preflight
from offboard.executor.records import note_record
from offboard.executor.sending import describe
from offboard.ports import AccountDirectory, Clock, IdentitySource, OffboardError, Store
from offboard.service.endings import run_ending
from offboard.service.pipeline_snapshots import targeted_target

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


class OperatorRefusedError(OffboardError):
    """The act would be wrong or cannot be checked; the message says why and what to do."""


def guard_names(names: Iterable[str]) -> frozenset[GuardName]:
    """The guards an operator named to lift (blanks ignored); an unknown name is refused,
    with the names there are."""
    wanted = [name.strip() for name in names if name.strip()]
    known = {g.value: g for g in GuardName}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise OperatorRefusedError(
            f"no such guard: {', '.join(unknown)} (guards: {', '.join(known)})"
        )
    return frozenset(known[name] for name in wanted)


@dataclass(frozen=True, slots=True)
class Act:
    """Who does an operator act, and why; both are journaled with it."""

    actor: str
    reason: str

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise OperatorRefusedError("a reason is required: say why, it is journaled")
        if not self.actor.strip():
            raise OperatorRefusedError("the actor is unknown: pass --actor NAME")

    @property
    def words(self) -> str:
        return f"by {self.actor.strip()}: {self.reason.strip()}"


@dataclass(frozen=True, slots=True)
class Sides:
    """What an operator act talks to."""

    source: IdentitySource
    directory: AccountDirectory
    store: Store
    clock: Clock
    policy: Policy
    realm: str


@dataclass(frozen=True, slots=True)
class Prepared:
    """A checked one-account plan and what the fresh reads said."""

    plan: Plan
    identity_id: IdentityId
    identity: Identity | None
    """Keycloak's fresh answer: None when the user is gone (404) or Keycloak was unreadable."""
    keycloak_note: str
    account: Account
    kind: str
    """The run kind the act is journaled under: ``cutoff`` or ``cutoff-lift``."""

    @property
    def refusal(self) -> str | None:
        """Why nothing will be done, when the plan has no action."""
        if self.plan.actions:
            return None
        if self.plan.entries:
            entry = self.plan.entries[0]
            return f"{entry.rule}: {entry.reason}"
        return f"account {self.account.id} has no access to take away: nothing to do"


async def prepare_cutoff(person: str, act: Act, sides: Sides) -> Prepared:
    """Fresh reads of both sides, then the cut-off plan for the person's one account."""
    identity_id, link, account = await locate(person, sides)
    identity, note = await _keycloak_view(identity_id, sides.source)
    plan = cutoff_plan(_facts(identity_id, identity, link, account, sides), act.words)
    return Prepared(plan, identity_id, identity, note, account, "cutoff")


async def prepare_lift(person: str, act: Act, sides: Sides) -> Prepared:
    """Fresh reads of both sides, then the plan that gives back what a cut-off took."""
    identity_id, link, account = await locate(person, sides)
    identity, note = await _keycloak_view(identity_id, sides.source)
    if identity is not None and not identity.enabled:
        raise OperatorRefusedError(
            f"Keycloak shows {identity.username} disabled: the daemon would take the access "
            "away again. Enable them in Keycloak first"
        )
    plan = lift_plan(_facts(identity_id, identity, link, account, sides), act.words)
    return Prepared(plan, identity_id, identity, note, account, "cutoff-lift")


async def carry_out(
    prepared: Prepared,
    act: Act,
    sides: Sides,
    overrides: frozenset[GuardName] = frozenset(),
    preflight: Preflight = NO_PREFLIGHT,
) -> ApplyReport:
    """Apply the prepared plan in a run of its own, journaled with who and why.

    ``apply_plan`` refuses a plan a guard blocks (``PlanBlockedError``) unless the guard is
    in ``overrides``, spends the policy's budget, and checks ``preflight`` (the caller's
    leader lease) before each write; the outcome carries the read-back of the account.
    """
    store, clock, plan = sides.store, sides.clock, prepared.plan
    run_id = store.start_run(prepared.kind, clock.now())
    try:
        store.append(
            note_record(
                at=clock.now(),
                run_id=run_id,
                fingerprint=plan.fingerprint,
                key=f"operator:{prepared.kind}",
                detail=f"{prepared.kind} of {prepared.identity_id} {act.words}; "
                f"Keycloak: {prepared.keycloak_note}",
                rule=plan.actions[0].rule.value if plan.actions else "",
            )
        )
        await recover(directory=sides.directory, store=store, clock=clock, fence=preflight.fence)
        report = await apply_plan(
            plan, directory=sides.directory, store=store, clock=clock, run_id=run_id,
            overrides=overrides, preflight=preflight, budget=sides.policy.budget,
            actor=act.actor, shared_reads=False,  # its read-back waits for no pass's company
        )  # fmt: skip
    except BaseException as error:
        store.finish_run(run_id, clock.now(), *run_ending(error))
        raise
    status = "applied" if report.all_done else "incomplete"
    summary: dict[str, object] = {"fingerprint": plan.fingerprint, "applied": report.counts,
                                  "actor": act.actor, "reason": act.reason}  # fmt: skip
    store.finish_run(run_id, clock.now(), status, summary)
    return report


async def locate(person: str, sides: Sides) -> tuple[IdentityId, Link | None, Account]:
    """The person's Keycloak id, link and Atlassian account, from a Keycloak id or an email.

    An email is looked up in Atlassian (a cut-off must work when Keycloak has no such
    user); a Keycloak id is looked up in the links, then by the user's email.
    """
    text = person.strip()
    if _UUID.fullmatch(text):
        identity_id = IdentityId(text.lower())
        links = sides.store.links(identity_ids=[identity_id])
        if len(links) > 1:
            accounts = ", ".join(link.account_id for link in links)
            raise OperatorRefusedError(f"{identity_id} is linked to several accounts ({accounts})")
        if links:
            return identity_id, links[0], await _account(links[0].account_id, sides)
        identity = await sides.source.read_identity(identity_id)
        if identity is None or identity.normalised_email is None:
            raise OperatorRefusedError(f"Keycloak has no user {identity_id} with an email, and no "
                                  "link names it: nothing to find the account by")  # fmt: skip
        return identity_id, None, await _unlinked_account(identity.normalised_email, sides)
    email = normalise_email(text)
    if email is None or "@" not in email:
        raise OperatorRefusedError(f"{text!r} is neither an email nor a Keycloak user id")
    account = await _only_account(email, sides)
    links = sides.store.links(account_ids=[account.id])
    if len(links) != 1:
        found = "no Keycloak identity" if not links else "several Keycloak identities"
        raise OperatorRefusedError(
            f"account {account.id} ({email}) is linked to {found}: pass the Keycloak user id "
            "(and see `offboard links`)"
        )
    return links[0].identity_id, links[0], account


async def _account(account_id: AccountId, sides: Sides) -> Account:
    account = await sides.directory.read_account(account_id)
    if account is None:
        raise OperatorRefusedError(
            f"Atlassian has no account {account_id} any more (read just now)"
        )
    return account


async def _only_account(email: str, sides: Sides) -> Account:
    accounts = await sides.directory.find_by_email(email)
    if not accounts:
        raise OperatorRefusedError(f"Atlassian has no account with the email {email}")
    if len(accounts) > 1:
        ids = ", ".join(sorted(a.id for a in accounts))
        raise OperatorRefusedError(f"several Atlassian accounts have the email {email} ({ids})")
    return accounts[0]


async def _unlinked_account(email: str, sides: Sides) -> Account:
    account = await _only_account(email, sides)
    owners = sides.store.links(account_ids=[account.id])
    if owners:
        raise OperatorRefusedError(
            f"account {account.id} ({email}) is linked to Keycloak user "
            f"{owners[0].identity_id}, not to this one: check who this is"
        )
    return account


async def _keycloak_view(
    identity_id: IdentityId, source: IdentitySource
) -> tuple[Identity | None, str]:
    """Keycloak's fresh answer, reported with the act; a cut-off does not depend on it."""
    try:
        identity = await source.read_identity(identity_id)
    except (OffboardError, httpx.HTTPError) as error:
        return None, f"unreadable ({describe(error)})"
    if identity is None:
        return None, "deleted (404)"
    return identity, "enabled" if identity.enabled else "disabled"


def _facts(
    identity_id: IdentityId,
    identity: Identity | None,
    link: Link | None,
    account: Account,
    sides: Sides,
) -> OneAccount:
    target = targeted_target(sides.store, (account,), sides.clock.now())
    return OneAccount(
        identity_id=identity_id,
        username=identity.username if identity is not None else (link.email if link else None),
        account=account,
        link=link,
        policy=sides.policy,
        verified_domains=target.verified_domains,
        key_owner=target.key_owner_account_id,
        linked_accounts=len(sides.store.links()),
        realm=sides.realm,
        now=sides.clock.now(),
    )
