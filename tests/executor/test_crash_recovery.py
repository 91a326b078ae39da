"""Kill -9 mid-apply, recover, apply again: nothing lost, no deactivation sent twice.

Each trial serves a fresh Atlassian emulator on a loopback socket, applies a plan in a child
process, kills it with SIGKILL at a random moment, then recovers and applies the same plan
again in this process, and checks the journal and the requests the emulator recorded.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sized
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

import offboard_emulators.atlassian as emulator_package
from offboard.adapters.atlassian import AtlassianDirectory
from offboard.core.accounts import AccountId
from offboard.core.fingerprint import fingerprint_of
from offboard.core.identities import IdentityId
from offboard.core.journal import Phase, Status
from offboard.core.plan import Action, Plan, Rule
from offboard.core.plan_json import plan_to_json
from offboard.core.policy import ActionKind
from offboard.executor import ApplyReport, apply_plan, recover, settled_keys, target_state_holds
from offboard.executor.readback import ReadBackPolicy
from offboard.ports import SystemClock
from offboard.store import SqlStore, open_store
from offboard_emulators.atlassian import (
    AtlassianState,
    create_app,
    generate_accounts,
    load_fixture,
    seed,
)
from offboard_emulators.common.faults import FaultConfig
from offboard_emulators.common.recorder import RecordedRequest
from offboard_emulators.common.server import serve_in_thread
from tests.executor.crash_child import DIRECTORY_ID, ORG_ID, directory_at

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

TRIALS = 14
ACCOUNTS = 8
ROOT = Path(__file__).parents[2]
FIXTURE = Path(emulator_package.__file__).parent / "example_fixture.json"
CHILD = "tests.executor.crash_child"
RECORDS_PER_ACTION = 4  # intent, attempt, outcome, read-back
WRITES = ("/manage/lifecycle/disable", "/suspend")
CHILD_LATENCY_MS = 5


@dataclass
class Trial:
    app_log_before_completion: int
    killed: bool
    unsettled_at_crash: int
    """INTENT records with no OUTCOME the crash left for recovery."""
    done_before_completion: set[str]
    report: ApplyReport


def _emulator_state() -> tuple[AtlassianState, list[str]]:
    state = AtlassianState()
    seed(state, load_fixture(FIXTURE))
    created = generate_accounts(
        state, ORG_ID, ACCOUNTS, domain="example.com", directory_id=DIRECTORY_ID, prefix="crash"
    )
    return state, created


def _plan(account_ids: list[str]) -> Plan:
    actions = tuple(
        Action(
            ActionKind.SUSPEND if n % 4 == 3 else ActionKind.DEACTIVATE,
            IdentityId(f"kc-{n:03d}"),
            AccountId(account_id),
            f"crash{n:06d}@example.com",
            Rule.IDENTITY_DISABLED,
            f"crash{n:06d} was disabled in Keycloak",
        )
        for n, account_id in enumerate(account_ids)
    )
    plan = Plan(
        created_at=SystemClock().now(), actions=actions, entries=(), guards=(), fingerprint=""
    )
    return replace(plan, fingerprint=fingerprint_of(plan))


def _journal_length(store_path: Path) -> int:
    with sqlite3.connect(store_path, timeout=30) as connection:
        return int(connection.execute("SELECT count(*) FROM journal").fetchone()[0])


class Children:
    """Child processes started one trial ahead: a child imports offboard (most of a trial's
    time on two busy cores) while this process checks the previous trial, then takes its
    emulator, store and plan on stdin. Only the import overlaps: the apply and the kill run
    as before, with no other child applying."""

    def __init__(self) -> None:
        self._next: subprocess.Popen[str] | None = None

    def prepare(self) -> None:
        """Start the next trial's child, unless one is already waiting."""
        if self._next is None:
            self._next = subprocess.Popen(
                [sys.executable, "-m", CHILD],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )

    def take(self) -> subprocess.Popen[str]:
        self.prepare()
        child, self._next = self._next, None
        assert child is not None
        return child

    def close(self) -> None:
        if self._next is not None:
            self._next.kill()
            self._next.communicate(timeout=60)
            self._next = None


def _run_child(
    children: Children,
    base_url: str,
    store_path: Path,
    plan_path: Path,
    kill_at: tuple[int, float] | None,
) -> bool:
    """Apply in a child process; with ``kill_at = (records, delay)``, SIGKILL it ``delay``
    seconds after its journal holds ``records`` lines. True when the kill found it running.
    """
    with children.take() as child:
        assert child.stdin is not None
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "imported"
        child.stdin.write(f"{base_url}\t{store_path}\t{plan_path}\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "ready"
        if kill_at is None:
            assert child.wait(timeout=120) == 0
            children.prepare()
            return False
        records, delay = kill_at
        while child.poll() is None and _journal_length(store_path) < records:
            time.sleep(0.002)
        time.sleep(delay)
        killed = child.poll() is None
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        children.prepare()  # imports while this trial is recovered and checked
        return killed


async def _complete(base_url: str, store: SqlStore, plan: Plan) -> tuple[set[str], ApplyReport]:
    clock = SystemClock()
    async with directory_at(base_url) as directory:
        await recover(directory=directory, store=store, clock=clock)
        done = settled_keys(store, plan.fingerprint, plan.created_at)
        report = await apply_plan(
            plan, directory=directory, store=store, clock=clock, run_id="completion"
        )
        for action in plan.actions:
            assert await _eventually_holds(directory, action), action.key
    return done, report


async def _eventually_holds(directory: AtlassianDirectory, action: Action) -> bool:
    """Atlassian's reads lag its writes (the emulator's read lag): an action the crashed
    child finished just before the kill may not show yet. Wait as a read-back does."""
    patience = ReadBackPolicy()
    for attempt in range(1, patience.attempts + 1):
        if target_state_holds(action, await directory.read_account(action.account_id)):
            return True
        await asyncio.sleep(patience.delay(attempt))
    return False


def _writes(entries: list[RecordedRequest], account_id: str) -> list[int]:
    """HTTP statuses of the lifecycle/suspend writes the emulator answered for one account."""
    return [
        entry.status
        for entry in entries
        if entry.method == "POST" and account_id in entry.path and entry.path.endswith(WRITES)
    ]


def _check(store: SqlStore, plan: Plan, entries: list[RecordedRequest], trial: Trial) -> None:
    assert trial.report.all_done, trial.report.counts
    assert store.unfinished() == []
    before, after = (
        entries[: trial.app_log_before_completion],
        entries[trial.app_log_before_completion :],
    )
    for action in plan.actions:
        changed = [s for s in _writes(entries, action.account_id) if s == 204]
        assert len(changed) == 1, f"{action.key}: state-changing writes {changed}"
        if action.key in trial.done_before_completion:
            assert _writes(after, action.account_id) == [], f"{action.key} sent again"
        assert len(_writes(before, action.account_id)) <= 1
    for record in store.journal(run_id="completion"):
        if record.phase is Phase.READBACK:
            assert record.status is Status.VERIFIED


def _trial(children: Children, tmp: Path, kill_at: tuple[int, float] | None) -> Trial:
    state, account_ids = _emulator_state()
    app = create_app(state)
    plan = _plan(account_ids)
    tmp.mkdir(parents=True)
    plan_path, store_path = tmp / "plan.json", tmp / "offboard.sqlite3"
    plan_path.write_text(plan_to_json(plan), encoding="utf-8")
    open_store(store_path).close()
    with serve_in_thread(app) as base_url:
        # Each request of the child answered a little late: its sends then take longer than
        # this process needs to see the journal grow and kill, even on a loaded machine
        # (without it, half the kills aimed mid-plan found every write already sent).
        app.state.emulator.faults.configure(FaultConfig(latency_ms=CHILD_LATENCY_MS))
        killed = _run_child(children, base_url, store_path, plan_path, kill_at)
        app.state.emulator.faults.configure(FaultConfig())
        log_size = _settled_log_size(app.state.emulator.log)
        store = open_store(store_path)
        unsettled = len(store.unfinished())
        done, report = asyncio.run(_complete(base_url, store, plan))
        trial = Trial(log_size, killed, unsettled, done, report)
        _check(store, plan, app.state.emulator.log.entries(), trial)
        store.close()
    return trial


def _settled_log_size(log: Sized, quiet: float = 0.3, within: float = 5.0) -> int:
    """The emulator's log length once it stops growing: a request the killed child had
    already sent is still answered (and logged) by the server thread after the kill, and
    counting it as sent by the completion would call the child's own write a repeat."""
    deadline = time.monotonic() + within
    size = len(log)
    while time.monotonic() < deadline:
        time.sleep(quiet)
        if len(log) == size:
            return size
        size = len(log)
    return size


@pytest.fixture
def children() -> Iterator[Children]:
    started = Children()
    yield started
    started.close()


def test_kill_nine_mid_apply_loses_nothing_and_repeats_nothing(
    tmp_path: Path, children: Children
) -> None:
    rng = random.Random(20261128)
    whole = _trial(children, tmp_path / "uninterrupted", None)
    assert len(whole.done_before_completion) == ACCOUNTS  # nothing left: nothing re-sent
    # Kills are aimed before the last action's records: the faster an apply, the more a kill
    # aimed at its very end finds it finished, and such a trial shows nothing.
    records = RECORDS_PER_ACTION * (ACCOUNTS - 1)
    trials = [
        _trial(children, tmp_path / f"trial-{n}", (rng.randrange(records), rng.uniform(0, 0.01)))
        for n in range(TRIALS)
    ]
    mid_plan = [t for t in trials if t.killed and len(t.done_before_completion) < ACCOUNTS]
    mid_action = [t for t in trials if t.unsettled_at_crash]
    print(f"{TRIALS} kills: {len(mid_plan)} mid-plan, {len(mid_action)} between intent and outcome")
    assert len(mid_plan) >= TRIALS // 2, f"only {len(mid_plan)} kills landed mid-plan"
    assert len(mid_action) >= 3, f"only {len(mid_action)} kills landed between intent and outcome"
