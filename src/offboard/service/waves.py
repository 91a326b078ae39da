"""One targeted plan for a wave of people whose events arrived together.

A mass disable in Keycloak (30, 300 or 3,000 people at once) reaches the daemon as one event
per person. Re-checking each alone paid, per person, its own confirming rounds in Keycloak
and its own Atlassian lookups. A wave reads everyone at once instead, with no safety read
dropped:

* Keycloak: each person is read by id (a 404 is the proof of a deletion), with groups and
  brute-force state, and the disabled ones are confirmed by the usual further rounds, whose
  pauses the whole wave shares (``IdentitySource.confirm``);
* Atlassian: the linked accounts and any account holding one of the wave's emails, found by
  a v2 ``emails`` search a hundred addresses at a time; a linked account the search did
  not return (its email changed) is read by id.

The wave is then planned as one targeted plan under the same guards (the percentage guard
counts every link in the store), and applied through ``apply_plan`` with the same budget,
holds and fence as every other path. A person whose read failed is left out of the plan
(nothing is decided on a guess) and handed back to be retried; the others go on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from offboard.core.accounts import Account
from offboard.core.identities import IdentityId
from offboard.core.links import Link
from offboard.core.plan import GuardName
from offboard.core.policy import Policy
from offboard.core.snapshots import SnapshotKind, SourceSnapshot
from offboard.executor.preflight import NO_PREFLIGHT, Preflight
from offboard.ports import AccountDirectory, Clock, IdentitySource, Store
from offboard.service.pipeline_snapshots import targeted_target
from offboard.service.reconciling import (
    RunReport,
    _finish,
    _plan_from,
    _recover_before,
    _Run,
    source_pause,
)

WAVE_RUN = "wave"


@runtime_checkable
class BatchLookup(Protocol):
    """A directory that finds the accounts of many emails in a few requests."""

    async def find_by_emails(self, emails: list[str]) -> Sequence[Account]: ...


@dataclass(frozen=True, slots=True)
class WaveReport:
    """The wave's run (None when nobody could be read) and who must be retried, with why."""

    run: RunReport | None
    unread: dict[IdentityId, str]


async def recheck_wave(
    identity_ids: Iterable[IdentityId],
    *,
    source: IdentitySource,
    directory: AccountDirectory,
    store: Store,
    policy: Policy,
    clock: Clock,
    apply: bool = True,
    overrides: frozenset[GuardName] = frozenset(),
    concurrency: int = 4,
    preflight: Preflight = NO_PREFLIGHT,
) -> WaveReport:
    """Read, plan and apply the wave as one targeted run (see the module docstring)."""
    wanted = list(dict.fromkeys(identity_ids))
    async with _planning_turn():  # one wave plans at a time; the applies run side by side
        read, unread = await read_wave(source, wanted, clock)
        if not read.targeted_ids:
            return WaveReport(None, unread)
        run = _Run.start(WAVE_RUN, directory, store, clock, policy)
        try:
            recovered = await _recover_before(apply, directory, store, clock, preflight)
            links = store.links(identity_ids=sorted(read.targeted_ids))
            accounts = await wave_accounts(directory, links, read)
            target = targeted_target(store, accounts, clock.now())
            population = store.link_count()
            result = await _plan_from(
                read, target, source, store, policy, clock, overrides, population=population
            )
        except BaseException as error:
            run.abandon(error)
            raise
    try:
        report = await _finish(
            run,
            result,
            recovered,
            apply=apply,
            concurrency=concurrency,
            preflight=preflight,
            paused=source_pause(store),
        )
    except BaseException as error:
        run.abandon(error)
        raise
    return WaveReport(report, unread)


_PLANNING: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def _planning_turn() -> asyncio.Lock:
    """The lock that lets one wave of this event loop read and plan at a time.

    Waves planned side by side share the CPU and Keycloak: four waves of 500 took about ten
    seconds to plan together, the first as long as the last, while the Atlassian rate
    limit, the real bound of a large wave, sat idle. In turn, the first wave sends after
    its own planning, and the next one plans while it sends."""
    loop = asyncio.get_running_loop()
    lock = _PLANNING.get(loop)
    if lock is None:
        lock = _PLANNING[loop] = asyncio.Lock()
    return lock


async def read_wave(
    source: IdentitySource, wanted: list[IdentityId], clock: Clock
) -> tuple[SourceSnapshot, dict[IdentityId, str]]:
    """Everyone read by id and confirmed at once; the snapshot speaks only for those read."""
    probe = SourceSnapshot(
        identities=(),
        taken_at=clock.now(),
        complete=True,
        kind=SnapshotKind.TARGETED,
        targeted_ids=frozenset(wanted),
    )
    read = await source.confirm(probe, wanted)
    present = {identity.id for identity in read.identities}
    unread = {
        identity_id: _why_unread(identity_id, read.problems)
        for identity_id in wanted
        if identity_id not in present and identity_id not in read.deleted
    }
    spoken = frozenset(wanted) - unread.keys()
    kept = tuple(p for p in read.problems if not any(i in p for i in unread))
    return dataclasses.replace(read, targeted_ids=spoken, problems=kept), unread


def _why_unread(identity_id: IdentityId, problems: tuple[str, ...]) -> str:
    said = [problem for problem in problems if identity_id in problem]
    return said[0] if said else f"user {identity_id} could not be read"


async def wave_accounts(
    directory: AccountDirectory, links: Sequence[Link], read: SourceSnapshot
) -> tuple[Account, ...]:
    """The accounts of the wave's emails (batched) and every linked account, read fresh."""
    emails = {i.email for i in read.identities} | {link.email for link in links}
    # As spelled: the directory asks each address in lower case too (``find_by_emails``).
    wanted = sorted({e.strip() for e in emails if e and e.strip()})
    found: dict[str, Account] = {}
    for account in await _by_emails(directory, wanted):
        found.setdefault(account.id, account)
    for link in links:
        if link.account_id in found:
            continue  # the search was a fresh read of this account too
        fresh = await directory.read_account(link.account_id)
        if fresh is not None:
            found[fresh.id] = fresh
    return tuple(sorted(found.values(), key=lambda account: account.id))


async def _by_emails(directory: AccountDirectory, emails: list[str]) -> list[Account]:
    if not emails:
        return []
    if isinstance(directory, BatchLookup):
        return list(await directory.find_by_emails(emails))
    found: list[Account] = []
    for email in emails:
        found.extend(await directory.find_by_email(email))
    return found
