"""The one-shot pipeline with in-memory fakes: read, confirm, plan, save, apply, read back."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from offboard.core.accounts import AccountStatus
from offboard.core.identities import Identity, IdentityId, Lockout
from offboard.core.journal import Phase, SnapshotSummary, Status
from offboard.core.links import Link
from offboard.core.plan import Plan
from offboard.core.policy import Policy
from offboard.core.snapshots import SourceSnapshot
from offboard.executor.records import action_record
from offboard.ports import CheckResult, IdentityEvent, Progress
from offboard.service.reconciling import RunReport, recheck_identity, reconcile
from offboard.store import SqlStore, open_store
from tests.executor.fakes import T0, FakeClock, FakeDirectory, account

PEOPLE = 8


def person(n: int, *, enabled: bool = True) -> Identity:
    return Identity(
        IdentityId(f"id-{n}"), f"user{n}", f"user{n}@example.com", enabled, lockout=Lockout.NONE
    )


@dataclass
class FakeSource:
    """Keycloak as a dict; ``confirm`` re-reads like the adapter: 404s and fresh disables."""

    people: dict[str, Identity]
    complete: bool = True
    confirmed: list[IdentityId] = field(default_factory=list)
    taken_at: datetime = T0

    async def snapshot(self, *, progress: Progress | None = None) -> SourceSnapshot:
        if progress is not None:
            progress(len(self.people), len(self.people))
        problems = () if self.complete else ("page 3 failed: 503",)
        people = tuple(self.people.values())
        return SourceSnapshot(people, self.taken_at, self.complete, problems=problems)

    async def read_identity(self, identity_id: IdentityId) -> Identity | None:
        found = self.people.get(identity_id)
        if found is None or found.enabled:
            return found
        return replace(found, disable_confirmed=True)

    async def confirm(
        self, snapshot: SourceSnapshot, candidates: Iterable[IdentityId]
    ) -> SourceSnapshot:
        wanted = set(candidates)
        self.confirmed.extend(sorted(wanted))
        kept = [i for i in snapshot.identities if i.id not in wanted]
        fresh = [await self.read_identity(i) for i in sorted(wanted)]
        gone = {i for i in wanted if i not in self.people}
        return replace(
            snapshot,
            identities=tuple(kept + [i for i in fresh if i is not None]),
            deleted=snapshot.deleted | gone,
        )

    async def events_since(self, cursor: str | None) -> tuple[Sequence[IdentityEvent], str | None]:
        return [], cursor

    async def self_check(self) -> Sequence[CheckResult]:
        return [CheckResult("fake", True, "in memory")]


def planned(report: RunReport) -> Plan:
    assert report.plan is not None
    return report.plan


def last(store: SqlStore, kind: str = "full") -> SnapshotSummary:
    summary = store.last_snapshot("keycloak", kind)
    assert summary is not None
    return summary


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    opened = open_store(tmp_path / "offboard.sqlite3")
    yield opened
    opened.close()


@pytest.fixture
def world(store: SqlStore) -> tuple[FakeSource, FakeDirectory]:
    """PEOPLE linked pairs, all active on both sides."""
    store.upsert_links(
        Link(IdentityId(f"id-{n}"), account(n).id, f"user{n}@example.com", T0)
        for n in range(PEOPLE)
    )
    source = FakeSource({f"id-{n}": person(n) for n in range(PEOPLE)})
    directory = FakeDirectory({f"acc-{n}": account(n) for n in range(PEOPLE)})
    return source, directory


async def _reconcile(
    world: tuple[FakeSource, FakeDirectory], store: SqlStore, *, apply: bool = True
) -> RunReport:
    source, directory = world
    return await reconcile(
        source=source,
        directory=directory,
        store=store,
        policy=Policy(),
        clock=FakeClock(),
        apply=apply,
    )


async def _recheck(
    world: tuple[FakeSource, FakeDirectory], store: SqlStore, identity_id: str
) -> RunReport:
    source, directory = world
    return await recheck_identity(
        IdentityId(identity_id),
        source=source,
        directory=directory,
        store=store,
        policy=Policy(),
        clock=FakeClock(),
    )


async def test_a_confirmed_leaver_is_deactivated_and_verified(
    world: tuple[FakeSource, FakeDirectory], store: SqlStore
) -> None:
    source, directory = world
    source.people["id-1"] = person(1, enabled=False)
    del source.people["id-2"]
    report = await reconcile(
        source=source,
        directory=directory,
        store=store,
        policy=Policy(),
        clock=FakeClock(),
        apply=True,
    )
    assert report.status == "applied", report.summary
    assert source.confirmed == ["id-1", "id-2"]
    assert {a.key for a in planned(report).actions} == {
        "deactivate:id-1:acc-1",
        "deactivate:id-2:acc-2",
    }
    assert directory.accounts["acc-1"].status is AccountStatus.INACTIVE
    readbacks = [r.status for r in store.journal(run_id=report.run_id) if r.phase is Phase.READBACK]
    assert readbacks == [Status.VERIFIED, Status.VERIFIED]
    (run,) = store.runs()
    assert run.status == "applied"
    assert run.summary["fingerprint"] == planned(report).fingerprint
    assert store.plan_document(report.run_id) is not None
    assert last(store).count == PEOPLE - 1

    again = await _reconcile(world, store)
    assert planned(again).actions == ()


async def test_a_disabled_leaver_is_deleted_after_delete_after(
    world: tuple[FakeSource, FakeDirectory], store: SqlStore
) -> None:
    """Issue 19.11: the disable of a leaver whose account is already deactivated is confirmed
    again once delete_after has run out, so the deletion is planned; never by default."""
    source, directory = world
    source.people["id-1"] = person(1, enabled=False)
    clock = FakeClock()
    delete_after = Policy(delete_after=timedelta(days=30))
    first = await reconcile(
        source=source,
        directory=directory,
        store=store,
        policy=delete_after,
        clock=clock,
        apply=True,
    )
    assert [a.kind for a in planned(first).actions] == ["deactivate"]
    clock.at += timedelta(days=31)
    source.taken_at = clock.at
    by_default = await reconcile(
        source=source, directory=directory, store=store, policy=Policy(), clock=clock, apply=True
    )
    assert planned(by_default).actions == ()
    later = await reconcile(
        source=source,
        directory=directory,
        store=store,
        policy=delete_after,
        clock=clock,
        apply=True,
    )
    assert [(a.kind, a.rule) for a in planned(later).actions] == [("delete", "delete-after")]
    assert later.status == "applied", later.summary
    assert directory.accounts["acc-1"].pending_deletion


async def test_plan_only_sends_nothing(
    world: tuple[FakeSource, FakeDirectory], store: SqlStore
) -> None:
    world[0].people["id-1"] = person(1, enabled=False)
    report = await _reconcile(world, store, apply=False)
    assert report.status == "planned"
    assert len(planned(report).actions) == 1
    assert world[1].sent == []


async def test_an_incomplete_read_blocks_and_never_becomes_the_baseline(
    world: tuple[FakeSource, FakeDirectory], store: SqlStore
) -> None:
    await _reconcile(world, store)
    source, directory = world
    source.complete = False
    source.people.pop("id-3")
    report = await _reconcile(world, store)
    assert report.status == "blocked"
    assert directory.sent == []
    assert last(store).count == PEOPLE
    assert last(store, "partial").count == PEOPLE - 1
    assert "source-incomplete" in str(report.summary["blocked_by"])


async def test_a_count_drop_against_the_baseline_blocks(
    world: tuple[FakeSource, FakeDirectory], store: SqlStore
) -> None:
    await _reconcile(world, store)
    for n in range(PEOPLE // 2):  # half of Keycloak gone at once (a wrong realm, a bad sync)
        del world[0].people[f"id-{n}"]
    report = await _reconcile(world, store)
    assert report.status == "blocked"
    assert "source-count-drop" in str(report.summary["blocked_by"])
    assert world[1].sent == []


async def test_a_failing_read_closes_the_run_as_failed(store: SqlStore) -> None:
    class Broken(FakeSource):
        async def snapshot(self, *, progress: Progress | None = None) -> SourceSnapshot:
            raise OSError("connection refused")

    with pytest.raises(OSError, match="refused"):
        await reconcile(
            source=Broken({}),
            directory=FakeDirectory({}),
            store=store,
            policy=Policy(),
            clock=FakeClock(),
            apply=True,
        )
    (run,) = store.runs()
    assert run.status == "failed"
    assert run.summary == {"error": "unexpected OSError"}


async def test_recheck_deactivates_one_disabled_identity(
    world: tuple[FakeSource, FakeDirectory], store: SqlStore
) -> None:
    await _reconcile(world, store)  # learns the org's verified domains
    source, directory = world
    source.people["id-4"] = person(4, enabled=False)
    report = await _recheck(world, store, "id-4")
    assert report.status == "applied", report.summary
    assert [a.key for a in planned(report).actions] == ["deactivate:id-4:acc-4"]
    assert directory.sent == ["deactivate:id-4:acc-4"]
    assert last(store, "targeted").count == 1


async def test_recheck_of_a_deleted_identity_finds_its_account_by_the_link(
    world: tuple[FakeSource, FakeDirectory], store: SqlStore
) -> None:
    await _reconcile(world, store)
    source, directory = world
    del source.people["id-5"]
    report = await _recheck(world, store, "id-5")
    assert directory.sent == ["deactivate:id-5:acc-5"]
    assert report.recovered == ()
    facts = json.loads(store.cursor("atlassian:org-facts") or "{}")
    assert facts["verified_domains"] == ["example.com"]


async def test_recheck_before_any_full_read_acts_on_nothing(
    world: tuple[FakeSource, FakeDirectory], store: SqlStore
) -> None:
    source, directory = world
    source.people["id-4"] = person(4, enabled=False)
    report = await _recheck(world, store, "id-4")
    assert directory.sent == []
    assert any("domains unknown" in p for p in report.problems)


async def test_an_applying_run_first_settles_what_a_crash_left(
    world: tuple[FakeSource, FakeDirectory], store: SqlStore
) -> None:
    source, directory = world
    source.people["id-1"] = person(1, enabled=False)
    planned_only = await _reconcile(world, store, apply=False)
    crashed = planned(planned_only).actions[0]
    store.append(
        action_record(
            crashed,
            at=T0,
            run_id=planned_only.run_id,
            fingerprint=planned(planned_only).fingerprint,
            phase=Phase.INTENT,
            status=Status.PENDING,
        )
    )
    again_planned = await _reconcile(world, store, apply=False)
    assert again_planned.recovered == ()  # a plan-only run only reads
    assert len(store.unfinished()) == 1

    applied = await _reconcile(world, store)
    assert [(o.key, o.status) for o in applied.recovered] == [(crashed.key, Status.PENDING)]
    assert store.unfinished() == []
    assert directory.sent == [crashed.key]
    assert applied.status == "applied"
