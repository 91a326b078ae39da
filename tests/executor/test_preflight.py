"""The checks just before each write: the lease fence, and the person of a stale plan."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from offboard.core.budget import DEFAULT_BUDGET
from offboard.core.identities import Identity, IdentityId, Lockout
from offboard.core.journal import JournalRecord, Phase, Status
from offboard.core.plan import Action
from offboard.core.policy import ActionKind
from offboard.core.snapshots import SourceSnapshot
from offboard.executor import apply_plan, recover
from offboard.executor.preflight import Preflight
from offboard.ports import Fence, FenceLostError, OperationResult
from offboard.store import SqlStore
from tests.executor.fakes import T0, FakeClock, FakeDirectory, account, action, plan_of

HOUR = timedelta(hours=1)


def _lead(store: SqlStore, holder: str, clock: FakeClock) -> Fence:
    now = clock.now()
    assert store.acquire_lease("daemon", holder, HOUR, now)
    token = store.lease_token("daemon", holder, now)
    assert token is not None
    return Fence("daemon", holder, token)


@dataclass
class TakenOverDirectory(FakeDirectory):
    """After ``take_over_after`` writes, another replica takes the lease (this one was paused)."""

    store: SqlStore | None = None
    clock: FakeClock | None = None
    take_over_after: int = 1

    async def execute(self, action: Action) -> OperationResult:
        result = await super().execute(action)
        if len(self.sent) == self.take_over_after:
            assert self.store is not None
            assert self.clock is not None
            self.clock.at += 2 * HOUR  # the pause outlived the lease ...
            _lead(self.store, "successor", self.clock)  # ... and the successor took over
        return result


async def test_a_replaced_leader_sends_and_records_nothing_more(
    store: SqlStore, clock: FakeClock
) -> None:
    fence = _lead(store, "paused", clock)
    accounts = {f"acc-{n}": account(n) for n in range(1, 6)}
    directory = TakenOverDirectory(accounts, store=store, clock=clock)
    plan = plan_of(*(action(n) for n in range(1, 6)))
    with pytest.raises(FenceLostError):
        await apply_plan(
            plan,
            directory=directory,
            store=store,
            clock=clock,
            run_id="r1",
            concurrency=1,
            preflight=Preflight(fence),
        )
    assert directory.sent == [action(1).key], "nothing is sent once the lease is gone"
    # The in-flight request's outcome was refused: recovery by the successor settles it.
    assert [(r.action_key, r.phase) for r in store.journal()] == [(action(1).key, Phase.INTENT)]
    assert [r.action_key for r in store.unfinished()] == [action(1).key]


async def test_an_expired_lease_stops_the_apply_before_any_request(
    store: SqlStore, clock: FakeClock
) -> None:
    fence = _lead(store, "slow", clock)
    clock.at += 2 * HOUR  # nobody took over, but the lease ran out: not ours to act on
    directory = FakeDirectory({"acc-1": account(1)})
    with pytest.raises(FenceLostError, match="the lease ran out"):
        await apply_plan(
            plan_of(action(1)),
            directory=directory,
            store=store,
            clock=clock,
            run_id="r1",
            preflight=Preflight(fence),
        )
    assert directory.sent == []
    # Checked in the admission's transaction: no slot spent, no intent written.
    assert store.journal() == []
    assert (
        store.budget_usage("deprovisioning", [DEFAULT_BUDGET.limits(0)[0]], clock.at)[0].used == 0
    )


async def test_the_live_leader_applies_normally_under_its_fence(
    store: SqlStore, clock: FakeClock
) -> None:
    fence = _lead(store, "leader", clock)
    directory = FakeDirectory({f"acc-{n}": account(n) for n in (1, 2)})
    report = await apply_plan(
        plan_of(action(1), action(2)),
        directory=directory,
        store=store,
        clock=clock,
        run_id="r1",
        preflight=Preflight(fence),
    )
    assert report.all_done
    assert sorted(directory.sent) == [action(1).key, action(2).key]


@dataclass
class Keycloak:
    """Fresh reads by id, counted."""

    people: dict[str, Identity | None]
    reads: list[str] = field(default_factory=list)

    async def read_identity(self, identity_id: IdentityId) -> Identity | None:
        self.reads.append(identity_id)
        return self.people[identity_id]

    async def confirm(
        self, snapshot: SourceSnapshot, candidates: Iterable[IdentityId]
    ) -> SourceSnapshot:
        """A batch: each person read by id, as the source's confirmation reads them."""
        read = {i: await self.read_identity(i) for i in candidates}
        found = tuple(p for p in read.values() if p is not None)
        gone = frozenset(i for i, p in read.items() if p is None)
        return dataclasses.replace(snapshot, identities=found, deleted=gone)


def _person(n: int, *, enabled: bool, lockout: Lockout = Lockout.NONE) -> Identity:
    return Identity(
        IdentityId(f"id-{n}"),
        f"user{n}",
        f"user{n}@example.com",
        enabled,
        lockout=lockout,
        disable_confirmed=not enabled and lockout is Lockout.NONE,
    )


def _stale_preflight(keycloak: Keycloak) -> Preflight:
    return Preflight(None, keycloak, timedelta(seconds=5))  # type: ignore[arg-type]


async def test_a_stale_plan_re_reads_each_person_and_skips_those_who_came_back(
    store: SqlStore, clock: FakeClock
) -> None:
    keycloak = Keycloak(
        {
            "id-1": _person(1, enabled=True),  # re-enabled during the pause
            "id-2": _person(2, enabled=False),  # still disabled
            "id-3": None,  # deleted meanwhile: still gone
            "id-4": _person(4, enabled=False, lockout=Lockout.TEMPORARY),  # only locked out
        }
    )
    directory = FakeDirectory({f"acc-{n}": account(n) for n in range(1, 5)})
    clock.at = T0 + timedelta(seconds=18)  # the plan (made at T0) is 18 s old
    report = await apply_plan(
        plan_of(*(action(n) for n in range(1, 5))),
        directory=directory,
        store=store,
        clock=clock,
        run_id="r1",
        preflight=_stale_preflight(keycloak),
    )
    assert sorted(directory.sent) == [action(2).key, action(3).key]
    assert sorted(keycloak.reads) == ["id-1", "id-2", "id-3", "id-4"]
    skipped = {
        r.action_key: r.detail
        for r in store.journal()
        if r.phase is Phase.OUTCOME and r.status is Status.SKIPPED
    }
    assert set(skipped) == {action(1).key, action(4).key}
    assert "enabled in Keycloak again" in skipped[action(1).key]
    assert "18 s after planning" in skipped[action(1).key]
    assert "temporarily locked" in skipped[action(4).key]
    assert report.counts["skipped"] == 2
    assert report.all_done, "a skipped action is settled, not left to do"


async def test_a_fresh_plan_is_sent_without_re_reading(store: SqlStore, clock: FakeClock) -> None:
    keycloak = Keycloak({"id-1": _person(1, enabled=True)})
    directory = FakeDirectory({"acc-1": account(1)})
    clock.at = T0 + timedelta(seconds=2)  # within the bound
    await apply_plan(
        plan_of(action(1)),
        directory=directory,
        store=store,
        clock=clock,
        run_id="r1",
        preflight=_stale_preflight(keycloak),
    )
    assert keycloak.reads == []
    assert directory.sent == [action(1).key]


async def test_a_stale_reactivation_is_skipped_when_the_person_left_again(
    store: SqlStore, clock: FakeClock
) -> None:
    keycloak = Keycloak({"id-1": _person(1, enabled=False)})
    directory = FakeDirectory({"acc-1": account(1)})
    clock.at = T0 + timedelta(minutes=3)
    report = await apply_plan(
        plan_of(action(1, ActionKind.REACTIVATE)),
        directory=directory,
        store=store,
        clock=clock,
        run_id="r1",
        preflight=_stale_preflight(keycloak),
    )
    assert directory.sent == []
    assert report.outcomes[0].status is Status.SKIPPED
    assert "disabled again" in report.outcomes[0].detail


async def test_a_replaced_leader_cannot_settle_what_it_left_either(
    store: SqlStore, clock: FakeClock
) -> None:
    old = _lead(store, "paused", clock)
    store.append(
        JournalRecord(
            at=clock.now(),
            run_id="r0",
            action_key=action(1).key,
            phase=Phase.INTENT,
            status=Status.PENDING,
            kind="deactivate",
            identity_id="id-1",
            account_id="acc-1",
            rule="identity-disabled",
            fingerprint="fp-1",
        ),
        fence=old,
    )
    clock.at += 2 * HOUR
    new = _lead(store, "successor", clock)
    directory = FakeDirectory({"acc-1": account(1)})
    with pytest.raises(FenceLostError):
        await recover(directory=directory, store=store, clock=clock, fence=old)
    assert len(store.unfinished()) == 1, "the stale recovery recorded nothing"
    outcomes = await recover(directory=directory, store=store, clock=clock, fence=new)
    assert [o.status for o in outcomes] == [Status.PENDING]
    assert store.unfinished() == []
