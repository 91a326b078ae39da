"""An operator's one-person act during a long full pass: it runs between two of the pass's
writes, not after the pass, and the pass leaves that person to its next run
(``service.gate.PassGate``, ``Preflight.sends``)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from offboard.core.accounts import Account, AccountId
from offboard.core.identities import IdentityId
from offboard.core.journal import Phase, Status
from offboard.core.plan import Action, Rule
from offboard.core.policy import ActionKind
from offboard.core.provisioning import members_of
from offboard.core.snapshots import TargetSnapshot
from offboard.executor import apply_plan
from offboard.executor.batch_reads import BatchReader
from offboard.executor.preflight import Preflight
from offboard.ports import CheckResult, OperationResult, Progress
from offboard.service.gate import PassGate
from offboard.store import SqlStore
from tests.executor.fakes import T0, FakeClock, FakeDirectory, account, action, plan_of

WHY = "operator request #7 (cutoff by alice)"


@dataclass
class OperatorMidPass(FakeDirectory):
    """During the pass's second write, an operator cuts person 5 off (through the gate)."""

    gate: PassGate = field(default_factory=PassGate)
    events: list[str] = field(default_factory=list)
    operator: asyncio.Task[None] | None = None

    async def execute(self, action: Action) -> OperationResult:
        self.events.append(f"pass sends {action.account_id}")
        if len(self.sent) == 1:  # the second write is in flight: the operator asks now
            self.operator = asyncio.create_task(self.cut_off("id-5", "acc-5"))
            await asyncio.sleep(0.05)  # the act waits for this write to finish
            assert self.events[-1] == "pass sends acc-2"
        return await super().execute(action)

    async def cut_off(self, identity_id: str, account_id: str) -> None:
        async with self.gate.interlude(WHY, {identity_id, account_id}):
            self.events.append(f"operator acts on {account_id}")
            await asyncio.sleep(0.01)


async def test_an_operator_act_runs_between_two_writes_and_supersedes_its_person(
    store: SqlStore, clock: FakeClock
) -> None:
    directory = OperatorMidPass({f"acc-{n}": account(n) for n in range(1, 8)})
    gate = directory.gate
    plan = plan_of(*(action(n) for n in range(1, 8)))
    run_id = store.start_run("daemon", clock.now())
    async with gate.exclusive(), gate.yielding():
        report = await apply_plan(
            plan, directory=directory, store=store, clock=clock, run_id=run_id, concurrency=1,
            preflight=Preflight(sends=gate),
        )  # fmt: skip
    assert directory.operator is not None
    await directory.operator
    assert directory.events[:4] == [
        "pass sends acc-1",
        "pass sends acc-2",
        "operator acts on acc-5",  # before the pass's next write, not after the pass
        "pass sends acc-3",
    ]
    assert "pass sends acc-5" not in directory.events  # left to the next pass
    skipped = {o.action.account_id: o for o in report.outcomes if o.status == Status.SKIPPED}
    assert list(skipped) == ["acc-5"]
    assert WHY in skipped["acc-5"].detail
    journaled = [r for r in store.journal() if r.phase is Phase.OUTCOME and r.account_id == "acc-5"]
    assert [r.status for r in journaled] == [Status.SKIPPED]
    assert "next pass re-plans" in journaled[0].detail


async def test_outside_a_pass_that_yields_the_act_waits_for_the_whole_pass() -> None:
    """A pass that does not make room (the licence check) keeps the act waiting, and a
    re-check waits for an act as it waits for a pass."""
    gate = PassGate()
    order: list[str] = []

    async def act() -> None:
        async with gate.interlude(WHY, {"id-1"}):
            order.append("act")

    async def recheck() -> None:
        async with gate.shared():
            order.append("recheck")

    async with gate.exclusive():
        waiting = asyncio.create_task(act())
        await asyncio.sleep(0.02)
        order.append("pass ends")
    await waiting
    async with gate.interlude(WHY, {"id-1"}):
        other = asyncio.create_task(recheck())
        await asyncio.sleep(0.02)
        order.append("act alone")
    await other
    assert order == ["pass ends", "act", "act alone", "recheck"]


async def test_what_an_act_superseded_is_forgotten_when_the_pass_ends() -> None:
    gate = PassGate()
    five = action(5)
    async with gate.exclusive(), gate.yielding():
        async with gate.interlude(WHY, {"acc-5"}):
            pass
        assert gate.superseded(five) is not None
        assert gate.superseded(action(6)) is None
    assert gate.superseded(five) is None
    async with gate.interlude(WHY, {"acc-5"}):  # no pass: nothing to supersede
        pass
    async with gate.exclusive(), gate.yielding():
        assert gate.superseded(five) is None


async def test_a_one_person_act_reads_back_without_the_pass_s_shared_reader(
    store: SqlStore, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shared reader makes a read-back wait for company from every apply running at once
    (up to 12 s at Atlassian's rate limit): an operator's act mid-pass measured 12 s with it,
    1.6 s without (benchmarks/bench_cutoff_during_pass.py)."""

    def shared(directory: object) -> BatchReader:
        raise AssertionError("the one-person act used the shared reader")

    monkeypatch.setattr(BatchReader, "shared", shared)
    directory = FakeDirectory({"acc-1": account(1)})
    run_id = store.start_run("cutoff", clock.now())
    report = await apply_plan(
        plan_of(action(1)), directory=directory, store=store, clock=clock, run_id=run_id,
        shared_reads=False,
    )  # fmt: skip
    assert [(o.status, o.readback) for o in report.outcomes] == [
        (Status.SUCCEEDED, Status.VERIFIED)
    ]


async def test_what_an_act_superseded_holds_until_the_outermost_yielding_block_ends() -> None:
    """The provisioning part of a full pass holds ``yielding`` around the deprovisioning part
    (which holds its own): a person cut off during the latter is left alone by the former."""
    gate = PassGate()
    async with gate.exclusive(), gate.yielding():
        async with gate.yielding(), gate.interlude(WHY, {"id-5"}):  # the deprovisioning part
            pass
        assert gate.superseded(action(5)) is not None  # still, in the SCIM part
        async with gate.interlude(WHY, {"id-6"}):  # acts still get in between parts
            pass
        assert gate.superseded(action(6)) is not None
    assert gate.superseded(action(5)) is None


def members_change(n: int, *members: str) -> Action:
    """A SCIM membership change of group ``n`` naming ``members`` (as the planner chunks
    them: the group's marker and target, the people as ``member`` attributes)."""
    return Action(
        ActionKind.SCIM_ADD_MEMBERS,
        IdentityId(f"group-{n}#0"),
        AccountId(f"scim-group:team-{n}"),
        None,
        Rule.MOVER_JOINED_GROUP,
        f"{len(members)} people joined Keycloak group /team-{n}: follow in SCIM",
        (("displayName", f"team-{n}"), *(("member", m) for m in members)),
    )


@dataclass
class Groups:
    """A SCIM directory's groups as the executor sees them: what each write sent."""

    sent: dict[str, tuple[str, ...]] = field(default_factory=dict)

    async def snapshot(self, *, progress: Progress | None = None) -> TargetSnapshot:
        return TargetSnapshot((), T0, False)

    async def find_by_email(self, email: str) -> Sequence[Account]:
        return ()

    async def read_account(self, account_id: AccountId) -> Account | None:
        return None

    async def execute(self, action: Action) -> OperationResult:
        self.sent[action.account_id] = members_of(action)
        return OperationResult(204, True)

    async def verify(self, action: Action) -> tuple[bool, str]:
        return self.sent.get(action.account_id) == members_of(action), "members as sent"

    async def self_check(self) -> Sequence[CheckResult]:
        return []


async def test_a_membership_change_goes_out_without_the_person_an_act_took_over(
    store: SqlStore, clock: FakeClock
) -> None:
    """Re-adding someone just cut off to a group, from reads older than the cut-off, would
    undo part of it: they are left out (journaled under their id), the others still follow;
    a change naming only people acts took over is skipped whole."""
    gate, groups = PassGate(), Groups()
    plan = plan_of(members_change(1, "id-1", "id-5", "id-6"), members_change(2, "id-5"))
    run_id = store.start_run("provision-full", clock.now())
    async with gate.exclusive(), gate.yielding():
        async with gate.interlude(WHY, {"id-5", "acc-5"}):
            pass
        report = await apply_plan(
            plan, directory=groups, store=store, clock=clock, run_id=run_id,
            preflight=Preflight(sends=gate),
        )  # fmt: skip
    assert groups.sent == {"scim-group:team-1": ("id-1", "id-6")}
    assert [(o.status, o.readback) for o in report.outcomes] == [
        (Status.SUCCEEDED, Status.VERIFIED),
        (Status.SKIPPED, None),
    ]
    assert WHY in report.outcomes[1].detail
    theirs = [r for r in store.journal(identity_id="id-5") if r.phase is Phase.OUTCOME]
    assert [(r.status, r.account_id) for r in theirs] == [
        (Status.SKIPPED, "scim-group:team-1"),
        (Status.SKIPPED, "scim-group:team-2"),
    ]
    assert all(WHY in r.detail for r in theirs)
