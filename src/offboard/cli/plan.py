"""`offboard plan`: read both sides, plan, show the plan; exit 0 none, 2 changes, 3 blocked."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from offboard.cli.exit_codes import ExitCode
from offboard.cli.plan_options import AdoptOption, ShowLinksOption

if TYPE_CHECKING:
    from rich.console import Console

    from offboard.cli.flows import Wired
    from offboard.core.plan import Plan


class PlanFormat(StrEnum):
    TABLE = "table"
    MARKDOWN = "markdown"
    JSON = "json"
    TEXT = "text"


MARKDOWN_HINT = "--format markdown, or a wider terminal"
"""Where a narrow table's reasons are, for the commands that take ``--format markdown``."""


def plan_exit_code(plan: Plan) -> ExitCode:
    """0 nothing to change in Atlassian (links only count as nothing), 2 changes, 3 blocked."""
    if plan.is_blocked:
        return ExitCode.BLOCKED
    return ExitCode.CHANGES if plan.changes_atlassian else ExitCode.OK


def show_plan(
    plan: Plan,
    fmt: PlanFormat,
    console: Console,
    *,
    skipped: bool = True,
    show_links: bool = False,
    reasons_hint: str = "",
) -> None:
    """Print the plan as a rich table (with guard verdicts), Markdown, text or JSON.

    Every format carries the day-one lines (the backlog and the command that adopts it,
    the link bookkeeping counted)."""
    from offboard.cli.render import WIDER, guard_lines, plan_table
    from offboard.core.day_one import day_one_lines
    from offboard.core.rendering import plan_to_json, render_markdown, render_text

    if fmt is PlanFormat.JSON:
        typer.echo(plan_to_json(plan), nl=False)
    elif fmt is PlanFormat.MARKDOWN:
        typer.echo(render_markdown(plan, show_links=show_links), nl=False)
    elif fmt is PlanFormat.TEXT:
        typer.echo(render_text(plan, show_links=show_links), nl=False)
    else:
        table = plan_table(
            plan,
            include_skipped=skipped,
            width=console.width,
            show_links=show_links,
            reasons_hint=reasons_hint or WIDER,
        )
        console.print(table)
        for line in day_one_lines(plan, show_links=show_links):
            console.print(line, markup=False, highlight=False)
        console.print(guard_lines(plan))
        if not plan.changes_atlassian and not plan.is_blocked:
            console.print("nothing to change in Atlassian")


def save_plan(plan: Plan, out: Path) -> None:
    """Write the plan document (0600) for review and a later `offboard apply FILE`."""
    from offboard.cli.errors import FailedError
    from offboard.cli.files import write_private
    from offboard.core.rendering import plan_to_json

    try:
        write_private(out, plan_to_json(plan))
    except OSError as exc:
        raise FailedError(f"cannot write the plan to {out}: {exc.strerror}") from None


async def plan_once(wired: Wired, console: Console, *, adopt_backlog: bool = False) -> Plan:
    """A fresh plan in a run of its own, kept in the store with its document."""
    from offboard.cli.flows import raise_if_unreadable, side_bars
    from offboard.service.reconciling import reconcile

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
            adopt_backlog=adopt_backlog,
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
        PlanFormat, typer.Option("--format", help="table (default), markdown, text or json.")
    ] = PlanFormat.TABLE,
    out: Annotated[
        Path | None, typer.Option(help="Also save the plan document (JSON) for `apply FILE`.")
    ] = None,
    skipped: Annotated[
        bool, typer.Option("--skipped/--no-skipped", help="List the skipped cases too.")
    ] = True,
    show_links: ShowLinksOption = False,
    adopt_backlog: AdoptOption = False,
) -> None:
    """Read Keycloak and Atlassian, and show what offboard would do, and why.

    Nothing is changed. Every action carries the rule that produced it; every case not
    acted on is listed as skipped (a rule says so) or blocked (acting would be a guess).
    Links to record are counted (--show-links lists them). People who left before offboard
    was watching are shown as the day-one backlog, with the command that adopts them.
    Exit code 0: nothing to change in Atlassian (links alone count as nothing); 2: changes
    planned; 3: a guard blocked the plan (a `blocked:` line on standard error says which;
    the plan itself, in any format, is on standard output).

    Examples: offboard plan; offboard plan --out plan.json; offboard plan --format markdown;
    offboard plan --adopt-backlog --out day-one.json
    """
    # Imported here, not at the top: `offboard plan --help` must not pay for them.
    from offboard.cli.fitting import output_console
    from offboard.cli.leaver_tokens import leaver_token_counts, token_lines
    from offboard.cli.state import state_of
    from offboard.cli.wiring import connect

    settings = state_of(ctx).settings()
    console = output_console(stderr=fmt is not PlanFormat.TABLE)

    async def go() -> tuple[Plan, dict[str, int]]:
        async with connect(settings) as wired:
            made = await plan_once(wired, console, adopt_backlog=adopt_backlog)
            tokens = settings.licences.revoke_leaver_tokens
            return made, await leaver_token_counts(wired.directory, made) if tokens else {}

    made, tokens = asyncio.run(go())
    show_plan(made, fmt, output_console(), skipped=skipped, show_links=show_links,
              reasons_hint=MARKDOWN_HINT)  # fmt: skip
    for line in token_lines(tokens):
        console.print(line, markup=False)
    if out is not None:
        save_plan(made, out)
        console.print(f"saved plan {made.fingerprint[:12]} to {out}", markup=False)
    say_if_blocked(made)
    raise typer.Exit(plan_exit_code(made))


def say_if_blocked(plan: Plan) -> None:
    """The BLOCKED diagnostic on stderr (exit-codes.md), whatever the format: the plan is
    stdout's (JSON stays JSON), and `offboard plan > plan.txt` still shows why it is 3."""
    from offboard.cli.errors import stderr

    if plan.is_blocked:
        guards = "; ".join(guard.message for guard in plan.blocked_by)
        stderr.print(f"blocked: plan {plan.fingerprint[:12]} is blocked: {guards}", markup=False)


def register(app: typer.Typer) -> None:
    """Add the `plan` command to the root app."""
    app.command("plan")(plan)
