"""The licence check: read both sides and Atlassian's use data, report, keep the figures.

Never a guess: a report is only made from complete reads of Keycloak and Atlassian, since
an incomplete Keycloak read would make current people look like orphans. Accounts the
managed-account listing does not cover (unmanaged accounts still holding access) get their
last use from the per-account ``last-active-dates`` call, four at a time under the adapter's
rate limit (one request per such account and check).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from offboard.core.accounts import Account
from offboard.core.licence_rendering import summary
from offboard.core.licences import (
    AccountUsage,
    LicenceReport,
    Ownership,
    ReportOptions,
    build_report,
)
from offboard.core.snapshots import SourceSnapshot, TargetSnapshot
from offboard.ports import (
    AccountDirectory,
    Clock,
    LicenceHistory,
    NotFoundError,
    OffboardError,
    Progress,
    Store,
    UsageDirectory,
)


class IdentitySnapshots(Protocol):
    """The part of :class:`offboard.ports.IdentitySource` a licence check reads."""

    async def snapshot(self, *, progress: Progress | None = None) -> SourceSnapshot: ...


PhaseProgress = Callable[[str], Progress | None]
"""Gives the progress callback of one read of a check (``PHASES``), or None."""
PHASES = {
    "keycloak": "reading Keycloak",
    "atlassian": "reading Atlassian",
    "use": "reading use data",
    "activity": "last-active dates",
}
"""Each read of a check, and how a progress bar names it."""


def _no_progress(_phase: str) -> Progress | None:
    return None


class ReportUnsafeError(OffboardError):
    """A side was not read completely: a report from it would call current people orphans.

    It keeps both snapshots, so that a caller can tell a vendor not read at all (unreachable)
    from a read that stopped part-way; its message names the first problem and counts the
    rest (a refused connection repeats one problem for every page)."""

    def __init__(self, source: SourceSnapshot, target: TargetSnapshot) -> None:
        self.source, self.target = source, target
        problems = list(dict.fromkeys([*source.problems, *target.problems])) or ["unknown"]
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        super().__init__(f"no licence report from an incomplete read: {problems[0]}{more}")


@dataclass(frozen=True, slots=True)
class LicenceInputs:
    """What one check read: both snapshots and the use data."""

    source: SourceSnapshot
    target: TargetSnapshot
    usages: tuple[AccountUsage, ...]


async def _extra_usages(
    usage: UsageDirectory,
    accounts: list[Account],
    concurrency: int = 4,
    progress: Progress | None = None,
) -> list[AccountUsage]:
    """Per-account activity of accounts with access that the managed listing left out."""
    limit = asyncio.Semaphore(concurrency)
    done = 0
    if progress is not None:
        progress(0, len(accounts))

    async def one(account: Account) -> AccountUsage:
        nonlocal done
        async with limit:
            try:
                found = await usage.last_active(
                    account.id, email=account.email, billable=account.billable
                )
            except NotFoundError:  # removed from the org since the directory was read
                found = AccountUsage(account.id, account.email, billable=False)
        done += 1
        if progress is not None:
            progress(done, len(accounts))
        return found

    return list(await asyncio.gather(*(one(a) for a in accounts)))


async def read_inputs(
    source: IdentitySnapshots,
    directory: AccountDirectory,
    usage: UsageDirectory,
    *,
    progress: PhaseProgress = _no_progress,
    watched: frozenset[str] = frozenset(),
) -> LicenceInputs:
    """Both sides and the use data; ``ReportUnsafeError`` unless both reads were whole.

    ``watched`` accounts get their use read even without access (to see a person return).
    ``progress`` gives each read (``PHASES``) its own callback, for a bar each.
    """
    source_snapshot = await source.snapshot(progress=progress("keycloak"))
    target = await directory.snapshot(progress=progress("atlassian"))
    if not (source_snapshot.complete and target.complete):
        raise ReportUnsafeError(source_snapshot, target)
    usages = await usage.usages(progress=progress("use"))
    listed = {u.account_id for u in usages}
    missing = [
        a
        for a in target.accounts
        if a.id not in listed and ((a.has_access and a.billable) or a.id in watched)
    ]
    usages.extend(await _extra_usages(usage, missing, progress=progress("activity")))
    return LicenceInputs(source_snapshot, target, tuple(usages))


def report_from(
    inputs: LicenceInputs, store: Store, options: ReportOptions, clock: Clock
) -> LicenceReport:
    """The report over what was read and the stored links (pure apart from the link read)."""
    ownership = Ownership.index(
        inputs.source.identities, store.links(), deleted=inputs.source.deleted
    )
    return build_report(inputs.usages, inputs.target.accounts, ownership, options, clock.now())


async def run_licence_check(
    source: IdentitySnapshots,
    directory: AccountDirectory,
    usage: UsageDirectory,
    store: Store,
    history: LicenceHistory | None,
    options: ReportOptions,
    clock: Clock,
    *,
    progress: PhaseProgress = _no_progress,
) -> LicenceReport:
    """Read, report, and keep the figures in the store's history (when given one)."""
    inputs = await read_inputs(source, directory, usage, progress=progress)
    report = report_from(inputs, store, options, clock)
    if history is not None:
        history.record_licence_report(report.taken_at, summary(report))
    return report
