"""`offboard plan`: read both sides, plan, show the plan; exit 0 none, 2 changes, 3 blocked."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from offboard.cli.errors import FailedError
from offboard.cli.exit_codes import ExitCode
from offboard.cli.flows import Wired, raise_if_unreadable, side_bars
from offboard.cli.render import guard_lines, plan_table
from offboard.cli.state import state_of
from offboard.cli.wiring import connect
from offboard.core.plan import Plan
from offboard.core.rendering import plan_to_json, render_markdown
from offboard.service.reconciling import reconcile


class PlanFormat(StrEnum):
    TABLE = "table"
    MARKDOWN = "markdown"
    JSON = "json"


def plan_exit_code(plan: Plan) -> ExitCode:
    """0 nothing to do, 2 changes planned, 3 blocked by a guard."""
    if plan.is_blocked:
        return ExitCode.BLOCKED
    return ExitCode.CHANGES if plan.has_changes else ExitCode.OK


def show_plan(plan: Plan, fmt: PlanFormat, console: Console, *, skipped: bool = True) -> None:
    """Print the plan as a rich table (with guard verdicts), Markdown or the JSON document."""
    if fmt is PlanFormat.JSON:
        typer.echo(plan_to_json(plan), nl=False)
    elif fmt is PlanFormat.MARKDOWN:
        typer.echo(render_markdown(plan), nl=False)
    else:
        console.print(plan_table(plan, include_skipped=skipped, width=console.width))
        console.print(guard_lines(plan))
        if not plan.has_changes and not plan.is_blocked:
            console.print("nothing to do")


def save_plan(plan: Plan, out: Path) -> None:
    """Write the plan document for review and a later `offboard apply FILE`."""
    try:
        out.write_text(plan_to_json(plan), encoding="utf-8")
    except OSError as exc:
        raise FailedError(f"cannot write the plan to {out}: {exc.strerror}") from None


async def plan_once(wired: Wired, console: Console) -> Plan:
    """A fresh plan in a run of its own, kept in the store with its document."""
    with side_bars(console) as progress:
        report = await reconcile(
            source=wired.source,
            directory=wired.directory,
            store=wired.store,
            policy=wired.policy,
            clock=wired.clock,
            apply=False,
            progress=progress,
            kind="plan",
        )
    assert report.result is not None  # a run that returns has planned
    raise_if_unreadable(report.result)
    hold = wired.store.active_hold("deprovisioning")
    if hold is not None:
        console.print(
            f"deprovisioning is held (hold #{hold.id} since {hold.since:%Y-%m-%d %H:%M}Z, "
            f"{len(hold.people)} waiting): deprovisioning planned here would wait on it; "
            "see `offboard hold show`",
            markup=False,
        )
    return report.result.plan


def plan(
    ctx: typer.Context,
    fmt: Annotated[
        PlanFormat, typer.Option("--format", help="table (default), markdown or json.")
    ] = PlanFormat.TABLE,
    out: Annotated[
        Path | None, typer.Option(help="Also save the plan document (JSON) for `apply FILE`.")
    ] = None,
    skipped: Annotated[
        bool, typer.Option("--skipped/--no-skipped", help="List the skipped cases too.")
    ] = True,
) -> None:
    """Read Keycloak and Atlassian, and show what offboard would do, and why.

    Nothing is changed. Every action carries the rule that produced it; every case not
    acted on is listed as skipped (a rule says so) or blocked (acting would be a guess).
    Exit code 0: nothing to do; 2: changes planned; 3: a guard blocked the plan.

    Examples: offboard plan; offboard plan --out plan.json; offboard plan --format markdown
    """
    settings = state_of(ctx).settings()
    console = Console(stderr=fmt is not PlanFormat.TABLE)

    async def go() -> Plan:
        async with connect(settings) as wired:
            return await plan_once(wired, console)

    made = asyncio.run(go())
    show_plan(made, fmt, Console(), skipped=skipped)
    if out is not None:
        save_plan(made, out)
        console.print(f"saved plan {made.fingerprint[:12]} to {out}", markup=False)
    raise typer.Exit(plan_exit_code(made))


def register(app: typer.Typer) -> None:
    """Add the `plan` command to the root app."""
    app.command("plan")(plan)
