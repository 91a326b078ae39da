"""What `apply --yes` prints: counts and every problem, not a row per action.

Unattended runs (cron, CI) apply thousands of actions; two tables of a row per action cost
seconds to render and bury the few rows that need a human. With ``--yes`` the plan is shown
as its counts, its skipped and blocked rules and its guard verdicts, and the outcome as its
counts plus a row for each action that is not done and verified. ``--full`` (or answering
the question interactively) shows both tables in full.
"""

from __future__ import annotations

from rich.console import Console

from offboard.cli.render import apply_table, explain_cases, guard_lines
from offboard.core.day_one import day_one_lines
from offboard.core.journal import Status
from offboard.core.plan import Plan
from offboard.core.rendering import plan_summary
from offboard.executor import ApplyReport
from offboard.executor.outcomes import Outcome


def show_plan_summary(plan: Plan, console: Console, *, show_links: bool = False) -> None:
    """The plan in a few lines: counts, each skipped or blocked rule once, the guards."""
    summary = plan_summary(plan)
    console.print(
        f"plan {plan.fingerprint[:12]}: {summary['actions']} actions, {summary['blocked']} "
        f"blocked, {summary['skipped']} skipped (--full shows every row)",
        markup=False,
        highlight=False,
    )
    explain_cases(plan, console)
    for line in day_one_lines(plan, show_links=show_links):
        console.print(line, markup=False, highlight=False)
    console.print(guard_lines(plan))


def done_and_verified(outcome: Outcome) -> bool:
    """Sent (or found done) and read back as wanted; a fresh-read skip is fine too."""
    if outcome.status is Status.SKIPPED:
        return True
    if outcome.status not in (Status.SUCCEEDED, Status.VERIFIED):
        return False
    return outcome.readback in (None, Status.VERIFIED)


def show_apply_summary(report: ApplyReport, console: Console) -> None:
    """The outcome counts, and a table of only the actions that need a look."""
    counts = ", ".join(f"{k}={v}" for k, v in sorted(report.counts.items()))
    console.print(f"apply {report.run_id}: {counts}", markup=False, highlight=False)
    problems = [outcome for outcome in report.outcomes if not done_and_verified(outcome)]
    if problems:
        console.print(apply_table(report, problems, title=f"{len(problems)} not done"))
