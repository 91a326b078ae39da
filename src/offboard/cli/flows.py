"""The command-line flows shared by plan, apply, deactivate/reactivate and the demo.

Each flow drives the service pipeline (``offboard.service.reconciling``) and the executor
with rich progress bars; none holds a decision rule of its own.
"""

from __future__ import annotations

import asyncio
import getpass
import re
from collections.abc import AsyncIterator, Coroutine, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar, cast

import typer
from rich.console import Console

from offboard.cli.errors import FailedError, RefusedError, UnreachableError, stderr
from offboard.cli.exit_codes import ExitCode
from offboard.cli.logs import bind_run

# The questions moved to offboard.cli.prompts; these names stay importable from here.
from offboard.cli.prompts import confirm as confirm
from offboard.cli.prompts import confirm_overrides
from offboard.cli.prompts import require_confirmation_channel as require_confirmation_channel
from offboard.core.plan import GuardName, Plan
from offboard.core.plan_diff import plan_diff
from offboard.core.plan_json import plan_summary
from offboard.core.policy import Policy
from offboard.core.snapshots import SourceSnapshot, TargetSnapshot
from offboard.executor import ApplyReport, PlanBlockedError
from offboard.executor.preflight import Preflight
from offboard.ports import AccountDirectory, Clock, IdentitySource
from offboard.ports import Progress as Report
from offboard.service.acting import LeaderBusyError, acting_lease
from offboard.service.operator import Sides
from offboard.service.overriding import apply_in_run as apply_in_own_run
from offboard.service.reconciling import PlanResult, SideProgress, build_plan
from offboard.store import SqlStore

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

T = TypeVar("T")
_CREDENTIALS = re.compile(
    r"credentials|HTTP 4(?!08|29)\d\d|expired|unauthori[sz]ed|no such realm", re.I
)
"""A snapshot problem saying the vendor answered and refused (or has no such realm or
group), rather than did not answer: retrying later will not help, so not exit 7."""


@dataclass
class Wired:
    """Everything a flow talks to, built from the settings (or by the demo from emulators)."""

    source: IdentitySource
    directory: AccountDirectory
    store: SqlStore
    policy: Policy
    clock: Clock
    lease_ttl: timedelta = timedelta(seconds=30)
    """How long the lease an apply takes lasts without renewal (``daemon.lease_ttl``)."""
    reconfirm_after: timedelta = timedelta(seconds=5)
    """Actions of a plan older than this re-read their person first (``daemon.reconfirm_after``)."""


class _NoBars:
    """What the bars are when the console is no terminal (a pipe, a log, a cron job): nothing
    drawn, and rich's progress module (imported only for a terminal) not imported."""

    def __enter__(self) -> _NoBars:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def add_task(self, _description: str, total: float | None = None) -> TaskID:
        del total
        return cast("TaskID", 0)

    def update(self, _task: TaskID, **_fields: float | None) -> None:
        return None


def _bars(console: Console) -> Progress | _NoBars:
    if not console.is_terminal:
        return _NoBars()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


@contextmanager
def side_bars(console: Console, labels: Mapping[str, str] | None = None) -> Iterator[SideProgress]:
    """Progress bars for the two snapshots, one per side (or one per ``labels`` entry)."""
    labels = labels or {"keycloak": "reading Keycloak", "atlassian": "reading Atlassian"}
    with _bars(console) as bars:
        tasks = {name: bars.add_task(label, total=None) for name, label in labels.items()}

        def for_side(side: str) -> Report | None:
            task = tasks.get(side)
            if task is None:
                return None
            return lambda done, total: bars.update(task, completed=done, total=total)

        yield for_side


def raise_if_unreadable(result: PlanResult) -> None:
    """A side that could not be read at all is an error to fix, not a plan to review."""
    raise_if_unread(result.source, result.target)


def raise_if_unread(source: SourceSnapshot, target: TargetSnapshot) -> None:
    """Exit 7 for a vendor that could not be read at all, 1 for one that refused us."""
    for side, snapshot, count in (
        (f"Keycloak at {source.source.partition(' (')[0]}", source, len(source.identities)),
        (f"Atlassian org {target.org_id}", target, len(target.accounts)),
    ):
        if not snapshot.complete and count == 0:
            problem = snapshot.problems[0] if snapshot.problems else "no reason given"
            message = f"{side} could not be read: {problem} (run `offboard config check`)"
            if _CREDENTIALS.search(problem):
                raise FailedError(message)  # it answered, and refused us: not exit 7
            raise UnreachableError(message)


async def fresh_plan(
    wired: Wired,
    console: Console,
    overrides: frozenset[GuardName] = frozenset(),
    *,
    adopt_backlog: bool = False,
) -> PlanResult:
    """Both snapshots (with progress bars), confirmations and the planner."""
    with side_bars(console) as progress:
        result = await build_plan(
            source=wired.source,
            directory=wired.directory,
            store=wired.store,
            policy=wired.policy,
            clock=wired.clock,
            overrides=overrides,
            progress=progress,
            adopt_backlog=adopt_backlog,
        )
    raise_if_unreadable(result)
    return result


CLOCK_SKEW = timedelta(minutes=5)
"""How far ahead of this machine's clock a saved plan's ``created_at`` may be (another
machine's clock); anything later is an edited or broken time, not a fresh plan."""


def check_saved_plan(saved: Plan, fresh: Plan, now: datetime, max_age: timedelta) -> None:
    """Refuse a saved plan that is too old, made "in the future", or no longer what a fresh
    plan decides."""
    age = now - saved.created_at
    if -age > CLOCK_SKEW:
        raise RefusedError(
            f"the plan says it was made at {saved.created_at.isoformat()}, "
            f"{_minutes(-age)} from now: a time in the future cannot be checked against "
            "--max-age; run `offboard plan` again"
        )
    if age > max_age:
        raise RefusedError(
            f"the plan was made {_minutes(age)} ago, more than --max-age {_minutes(max_age)}; "
            "run `offboard plan` again and review the new plan"
        )
    if fresh.fingerprint != saved.fingerprint:
        changes = "\n".join(f"  {line}" for line in plan_diff(saved, fresh))
        raise RefusedError(
            f"the world changed since plan {saved.fingerprint[:12]} was made: a fresh plan "
            f"is {fresh.fingerprint[:12]} ({counts(fresh)}). Nothing was applied; "
            f"run `offboard plan` again and review the new plan. What changed:\n{changes}"
        )


def counts(plan: Plan) -> str:
    """``3 actions, 1 blocked, 12 skipped``."""
    summary = plan_summary(plan)
    return (
        f"{summary['actions']} actions, {summary['blocked']} blocked, {summary['skipped']} skipped"
    )


def _minutes(delta: timedelta) -> str:
    """An age as people say it: seconds below a minute ("--max-age 1s" is not "0 min")."""
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"


async def apply_in_run(
    wired: Wired,
    plan: Plan,
    console: Console,
    overrides: frozenset[GuardName] = frozenset(),
    kind: str = "apply",
    paused: str = "",
) -> ApplyReport:
    """Apply ``plan`` in a run of its own: crash recovery first, a progress bar, a summary.

    It acts under the leader lease, like a daemon: refused while a daemon leads, and every
    write fenced (see ``offboard.service.acting``).
    """
    async with acting(wired) as preflight:
        return await _apply_fenced(wired, plan, console, overrides, kind, preflight, paused)


@asynccontextmanager
async def acting(wired: Wired) -> AsyncIterator[Preflight]:
    """The leader lease for a command that writes to Atlassian, as the checks every write
    makes (the fence, and re-reading a stale plan's people). Like a daemon, a command acts
    only while it holds the lease: refused while a daemon leads (see
    ``offboard.service.acting``)."""
    try:
        async with acting_lease(wired.store, wired.clock, wired.lease_ttl) as fence:
            yield Preflight(fence, wired.source, wired.reconfirm_after)
    except LeaderBusyError as error:
        raise RefusedError(f"{error}; nothing was applied") from None


async def _apply_fenced(
    wired: Wired,
    plan: Plan,
    console: Console,
    overrides: frozenset[GuardName],
    kind: str,
    preflight: Preflight,
    paused: str,
) -> ApplyReport:
    """The service's ``apply_in_run`` (shared with the console), with a progress bar."""
    sides = Sides(wired.source, wired.directory, wired.store, wired.clock, wired.policy, "")
    with _bars(console) as bars:
        task = bars.add_task("applying", total=len(plan.actions))
        return await apply_in_own_run(
            plan, sides, actor=operator(), preflight=preflight, overrides=overrides,
            kind=kind, paused=paused, on_run=bind_run,
            progress=lambda done, total: bars.update(task, completed=done, total=total),
        )  # fmt: skip


def operator() -> str:
    """Who runs this command, for the journal (the OS user; never a secret)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


async def stop_if_blocked(
    wired: Wired,
    plan: Plan,
    console: Console,
    overrides: frozenset[GuardName],
    kind: str,
    *,
    yes: bool = True,
) -> None:
    """A guard not lifted by --override-guard stops the command (exit 3); the executor
    journals it and puts the hold, so the daemon's re-checks of the same people wait too.
    Each lift is confirmed by typing the guard's name (unless --yes)."""
    if any(g.name not in overrides for g in plan.blocked_by):
        await apply_in_run(wired, plan, console, overrides, kind=kind)
    confirm_overrides(console, [str(g.name) for g in plan.blocked_by], yes=yes)
    for guard in plan.blocked_by:
        console.print(f"overriding guard {guard.name} for this run (journaled)", markup=False)


def run_applying(work: Coroutine[Any, Any, T], console: Console) -> T:
    """Run an applying command's async work; a plan a guard blocks ends it with BLOCKED."""
    try:
        return asyncio.run(work)
    except PlanBlockedError as exc:
        # A refusal is a diagnostic: stderr, so `offboard apply > report.txt` still shows it.
        del console
        stderr.print(f"blocked: {exc}", markup=False)
        raise typer.Exit(ExitCode.BLOCKED) from None
