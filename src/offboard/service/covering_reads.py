"""A full run's Atlassian read: the whole directory, or only the accounts its plan needs.

After the Keycloak walk, ``core.covering`` names the accounts the decisions need (linked
accounts of everyone not plainly fine, by id; the emails of unlinked identities). When those
searches take fewer requests than a walk of the directory (the larger of the last full
Atlassian count and the links in the store, a page per hundred accounts), they are read
instead of the walk; ``atlassian.directory_read`` forces one or the other. Both give the
same deprovisioning decisions (docs/concepts/decision-rules.md, "Covering reads"):

* an account absent from a search answer is read by id; only a 404 makes it gone;
* any search or read that fails makes the snapshot incomplete, which blocks acting exactly
  as an incomplete walk does (guard ``target-incomplete``);
* after Keycloak confirmed its candidates, what the confirmed identities need beyond what
  was read is read too, before planning.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

import structlog

from offboard.core.accounts import Account, AccountId
from offboard.core.covering import SEARCH_IDS, Needs, needs_after_confirming, walk_requests
from offboard.core.links import Link
from offboard.core.policy import Policy
from offboard.core.snapshots import SnapshotKind, SourceSnapshot, TargetSnapshot
from offboard.ports import AuthenticationError, OffboardError, Progress, Store
from offboard.service.pipeline_snapshots import ATLASSIAN

log = structlog.get_logger(__name__)

WALK, TARGETED, AUTO = "walk", "targeted", "auto"


@runtime_checkable
class CoveringDirectory(Protocol):
    """A directory that reads accounts by ids and emails in batches, and its org facts."""

    directory_read: str
    """``auto``, ``walk`` or ``targeted`` (setting ``atlassian.directory_read``)."""

    async def snapshot(self, *, progress: Progress | None = None) -> TargetSnapshot: ...

    async def org_facts(self) -> TargetSnapshot: ...

    async def read_accounts(self, account_ids: Sequence[AccountId]) -> Mapping[str, Account]: ...

    async def find_by_emails(self, emails: list[str]) -> Sequence[Account]: ...

    async def read_account(self, account_id: AccountId) -> Account | None: ...


def choose(mode: str, needs: Needs, store: Store) -> tuple[bool, str]:
    """Whether to read only ``needs``, and why (journaled with the run)."""
    searches = needs.requests
    if mode == TARGETED:
        return True, f"targeted ({searches} searches): atlassian.directory_read = targeted"
    last = store.last_snapshot(ATLASSIAN, SnapshotKind.FULL.value)
    # At least this many accounts exist: every link names one. A lower bound keeps the
    # choice of the targeted read honest when the directory was never walked.
    accounts = max(last.count if last is not None else 0, store.link_count())
    pages = walk_requests(accounts)
    if searches < pages:
        return True, f"targeted: {searches} searches against a walk of at least {pages} pages"
    return False, f"walk: {pages} pages against {searches} targeted searches"


async def read_covering(
    directory: CoveringDirectory, needs: Needs, taken_at: datetime
) -> TargetSnapshot:
    """The org facts and every needed account; incomplete when any read failed."""
    found: dict[str, Account] = {}
    problems: list[str] = []
    facts = TargetSnapshot((), taken_at, False, kind=SnapshotKind.COVERING)
    try:
        facts = await directory.org_facts()
        await _read_ids(directory, sorted(needs.account_ids), found)
        if needs.emails:
            for account in await directory.find_by_emails(sorted(needs.emails)):
                found.setdefault(account.id, account)
    except AuthenticationError:
        raise
    except (OffboardError, ValueError) as exc:  # ValueError: a malformed answer
        problems.append(f"Atlassian targeted read stopped after {len(found)} accounts: {exc}")
    return dataclasses.replace(
        facts,
        accounts=tuple(sorted(found.values(), key=lambda account: account.id)),
        complete=facts.complete and not problems,
        kind=SnapshotKind.COVERING,
        problems=(*facts.problems, *problems),
        asked_accounts=frozenset(needs.account_ids),
    )


async def _read_ids(
    directory: CoveringDirectory, ids: list[AccountId], into: dict[str, Account]
) -> None:
    """Ten per search; an id an answer lacks is read by id (never assumed gone)."""
    for start in range(0, len(ids), SEARCH_IDS):
        batch = ids[start : start + SEARCH_IDS]
        answered = await directory.read_accounts(batch)
        into.update(answered)
        for account_id in batch:
            if account_id not in answered:
                fresh = await directory.read_account(account_id)
                if fresh is not None:
                    into[fresh.id] = fresh


async def widened(
    directory: CoveringDirectory,
    target: TargetSnapshot,
    asked: Needs,
    snapshots: tuple[SourceSnapshot, SourceSnapshot],
    links: Sequence[Link],
    policy: Policy,
) -> TargetSnapshot:
    """The covering read plus what the confirmed identities need beyond it (usually none).

    ``snapshots``: Keycloak as listed (what ``asked`` was computed from) and as confirmed;
    only the identities the confirmation changed are looked at again."""
    listed, confirmed = snapshots
    more = needs_after_confirming(listed, confirmed, links, policy, asked)
    if not more.account_ids and not more.emails:
        return target
    log.info("confirmed identities need more accounts", accounts=len(more.account_ids))
    extra = await read_covering(directory, more, target.taken_at)
    accounts = {account.id: account for account in target.accounts}
    accounts.update((account.id, account) for account in extra.accounts)
    return dataclasses.replace(
        target,
        accounts=tuple(sorted(accounts.values(), key=lambda account: account.id)),
        complete=target.complete and extra.complete,
        problems=(*target.problems, *extra.problems),
        asked_accounts=target.asked_accounts | extra.asked_accounts,
    )
