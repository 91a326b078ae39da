"""One licence pass: report, keep the figures, plan the licence steps, apply them.

The steps (inactivity warnings and removals, leavers' token revocations) go through
``apply_plan`` like every other change: guards, budget, journal, read-back. Afterwards the
inactivity marks say what was done, and an inactivity removal is handed back from the
leaver flow's bookkeeping (the link's ``deactivated_by_offboard``), so that a reconciliation
with ``reactivate = true`` never undoes it: only ``inactive-returned`` does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from offboard.core.identities import Identity
from offboard.core.inactivity import (
    InactivityMark,
    InactivityPolicy,
    LicenceInputsView,
    plan_licences,
)
from offboard.core.journal import Status
from offboard.core.licence_rendering import summary
from offboard.core.licences import LicenceReport, ReportOptions
from offboard.core.links import Link
from offboard.core.plan import GuardName, Plan, Rule
from offboard.core.plan_json import plan_to_json
from offboard.core.policy import ActionKind, Policy
from offboard.executor.applying import PlanBlockedError, apply_plan
from offboard.executor.licence_actions import LicenceDirectory, Recipients
from offboard.executor.outcomes import ApplyReport, Outcome
from offboard.executor.preflight import NO_PREFLIGHT, Preflight
from offboard.ports import (
    AccountDirectory,
    Clock,
    LicenceHistory,
    NotFoundError,
    Notifier,
    OffboardError,
    Store,
    UsageDirectory,
)
from offboard.service.licence_check import (
    IdentitySnapshots,
    LicenceInputs,
    read_inputs,
    report_from,
)


class LicenceStore(Store, LicenceHistory, Protocol):
    """The store as a licence pass needs it."""


@dataclass(frozen=True, slots=True)
class LicenceConfig:
    """The licence settings a pass needs, as plain data."""

    options: ReportOptions
    rules: InactivityPolicy
    policy: Policy
    manager_attribute: str | None = "manager_email"
    admin_email: str | None = None


@dataclass(frozen=True, slots=True)
class LicencePassResult:
    report: LicenceReport
    plan: Plan
    applied: ApplyReport | None = None
    blocked: str | None = None


TOKENS_CURSOR = "licences:tokens-swept-at"
"""When every deprovisioned account's tokens were last listed and dealt with."""
SWEEP_OVERLAP = timedelta(days=1)


def token_candidates(links: Iterable[Link], swept_at: datetime | None) -> list[str]:
    """Accounts offboard deprovisioned since the last complete sweep (all of them at first).

    A deactivated account cannot make new tokens, so an account swept once stays clean.
    """
    since = None if swept_at is None else swept_at - SWEEP_OVERLAP
    return sorted(
        {
            link.account_id
            for link in links
            if link.deactivated_by_offboard
            and (since is None or link.deactivated_at is None or link.deactivated_at >= since)
        }
    )


async def token_counts(
    usage: UsageDirectory, accounts: Iterable[str], concurrency: int = 4
) -> tuple[dict[str, int], int]:
    """API tokens held by each account, and how many accounts could not be listed."""
    limit = asyncio.Semaphore(concurrency)

    async def count(account_id: str) -> tuple[str, int | None]:
        async with limit:
            try:
                return account_id, len(await usage.api_tokens(account_id))
            except NotFoundError:
                return account_id, 0  # deleted: no tokens, now or ever (else never swept)
            except OffboardError:
                return account_id, None

    found = await asyncio.gather(*(count(a) for a in accounts))
    return {a: n for a, n in found if n}, sum(1 for _, n in found if n is None)


def _swept(store: Store, started: datetime, unread: int, applied: ApplyReport | None) -> None:
    """Move the sweep's cursor on only when every account was listed and every revocation
    succeeded; otherwise the same accounts are looked at again next time."""
    failed = applied is not None and any(
        o.action.kind is ActionKind.REVOKE_TOKENS
        and o.status not in (Status.SUCCEEDED, Status.VERIFIED)
        for o in applied.outcomes
    )
    if not unread and not failed:
        store.set_cursor(TOKENS_CURSOR, started.isoformat())


def recipients_of(
    identities: Iterable[Identity], links: Iterable[Link], config: LicenceConfig
) -> dict[str, Recipients]:
    """Per account: the person, copied to their manager (a Keycloak attribute) or the admin."""
    by_id = {identity.id: identity for identity in identities}
    found: dict[str, Recipients] = {}
    for link in links:
        identity = by_id.get(link.identity_id)
        email = (identity.email if identity else None) or link.email
        if not email:
            continue
        manager = identity.attribute(config.manager_attribute) if (
            identity and config.manager_attribute
        ) else None  # fmt: skip
        copy = manager or config.admin_email
        found[link.account_id] = Recipients((email,), (copy,) if copy else ())
    return found


def updated_marks(
    outcomes: Iterable[Outcome], marks: Mapping[str, InactivityMark], now: datetime
) -> tuple[list[InactivityMark], list[str]]:
    """The marks after the successful steps: warned, removed, or cleared on a return."""
    changed: dict[str, InactivityMark] = {}
    cleared: list[str] = []
    for outcome in outcomes:
        if outcome.status not in (Status.SUCCEEDED, Status.VERIFIED):
            continue
        action = outcome.action
        mark = changed.get(action.account_id) or marks.get(action.account_id)
        mark = mark or InactivityMark(action.account_id, action.identity_id)
        if action.rule is Rule.INACTIVE_WARN:
            changed[action.account_id] = replace(mark, warned_at=now)
        elif action.rule is Rule.INACTIVE_REMOVE:
            changed[action.account_id] = replace(
                mark, removed_at=now, removal_kind=action.kind.value
            )
        elif action.rule is Rule.INACTIVE_RETURNED:
            cleared.append(action.account_id)
    return list(changed.values()), cleared


def _handed_back(store: Store, outcomes: Iterable[Outcome]) -> None:
    """An inactivity removal is not a leaver's deactivation: clear the link's leaver flags."""
    removed = {
        (o.action.identity_id, o.action.account_id)
        for o in outcomes
        if o.action.rule is Rule.INACTIVE_REMOVE and o.status is Status.SUCCEEDED
    }
    if not removed:
        return
    links = store.links(account_ids=[account for _, account in removed])
    store.upsert_links(
        replace(link, deactivated_by_offboard=False, deactivated_at=None, deactivation_kind=None)
        for link in links
        if (link.identity_id, link.account_id) in removed
    )


def plan_from(
    inputs: LicenceInputs,
    links: list[Link],
    marks: Mapping[str, InactivityMark],
    tokens: Mapping[str, int],
    config: LicenceConfig,
    now: datetime,
    overrides: frozenset[GuardName] = frozenset(),
) -> Plan:
    view = LicenceInputsView(
        inputs.source,
        inputs.target,
        {usage.account_id: usage for usage in inputs.usages},
        links,
        marks,
        tokens,
    )
    return plan_licences(view, config.policy, config.rules, now, overrides)


async def licence_pass(
    source: IdentitySnapshots,
    directory: AccountDirectory,
    usage: UsageDirectory,
    store: LicenceStore,
    notifier: Notifier | None,
    clock: Clock,
    config: LicenceConfig,
    *,
    apply: bool = True,
    overrides: frozenset[GuardName] = frozenset(),
    preflight: Preflight = NO_PREFLIGHT,
) -> LicencePassResult:
    """Report (kept in the history), plan the licence steps and, when ``apply``, carry them out
    under the policy's budget and ``preflight`` (the leader lease of the process acting)."""
    marks = {mark.account_id: mark for mark in store.inactivity_marks()}
    removed = frozenset(m.account_id for m in marks.values() if m.removed_at is not None)
    inputs = await read_inputs(source, directory, usage, watched=removed)
    report = report_from(inputs, store, config.options, clock)
    store.record_licence_report(report.taken_at, summary(report))
    links = store.links()
    sweeping = config.rules.revoke_leaver_tokens
    started = clock.now()
    swept_at = store.cursor(TOKENS_CURSOR)
    candidates = token_candidates(links, datetime.fromisoformat(swept_at) if swept_at else None)
    tokens, unread = await token_counts(usage, candidates) if sweeping else ({}, 0)
    plan = plan_from(inputs, links, marks, tokens, config, clock.now(), overrides)
    if not apply or not plan.actions:
        if apply and sweeping:
            _swept(store, started, unread, None)
        return LicencePassResult(report, plan)
    run_id = store.start_run("licences", clock.now())
    store.save_plan(run_id, plan.fingerprint, plan_to_json(plan))
    acting = LicenceDirectory(
        directory, usage, notifier, store, clock, run_id, plan.fingerprint,
        recipients_of(inputs.source.identities, links, config),
        config.rules.remove_after.days,
    )  # fmt: skip
    try:
        applied = await apply_plan(
            plan, directory=acting, store=store, clock=clock, run_id=run_id, overrides=overrides,
            preflight=preflight, budget=config.policy.budget,
        )  # fmt: skip
    except PlanBlockedError as blocked:
        store.finish_run(run_id, clock.now(), "blocked", {"guards": list(blocked.guards)})
        return LicencePassResult(report, plan, blocked=str(blocked))
    if sweeping:
        _swept(store, started, unread, applied)
    changed, cleared = updated_marks(applied.outcomes, marks, clock.now())
    store.save_inactivity_marks(changed, cleared)
    _handed_back(store, applied.outcomes)
    status = "succeeded" if not applied.failed and not applied.blocked else "failed"
    store.finish_run(run_id, clock.now(), status, dict(applied.counts))
    return LicencePassResult(report, plan, applied)
