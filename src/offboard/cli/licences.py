"""`offboard licences plan|apply`: the inactivity policy's steps and leavers' API tokens.

The same pass the daemon runs daily: the licence report (kept in the history), then the
plan of licence steps, each with its rule and reason, applied under the guards.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer

from offboard.cli.apply import OverrideOption, YesOption
from offboard.cli.exit_codes import ExitCode
from offboard.cli.plan import plan_exit_code
from offboard.cli.state import state_of
from offboard.core.plan import GuardName
from offboard.core.plan_json import plan_to_json

if TYPE_CHECKING:
    from offboard.executor.preflight import Preflight
    from offboard.service.licence_pass import LicencePassResult
    from offboard.settings import Settings


licences_app = typer.Typer(
    help="The licence steps: inactivity warnings and removals, leavers' API tokens.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


async def run_pass(
    settings: Settings, *, apply: bool, overrides: frozenset[GuardName] = frozenset()
) -> LicencePassResult:
    from offboard.cli.flows import acting
    from offboard.cli.licence_wiring import build_notifier, licence_config
    from offboard.cli.report import usage_of, whole_reads
    from offboard.cli.wiring import connect
    from offboard.executor.preflight import NO_PREFLIGHT
    from offboard.service.licence_pass import licence_pass

    notifier = build_notifier(settings, acting=apply)  # before anything is contacted
    async with connect(settings) as wired:

        async def run(preflight: Preflight) -> LicencePassResult:
            with whole_reads():
                return await licence_pass(
                    wired.source,
                    wired.directory,
                    usage_of(wired.directory),
                    wired.store,
                    notifier,
                    wired.clock,
                    licence_config(settings),
                    apply=apply,
                    overrides=overrides,
                    preflight=preflight,
                )

        if not apply:
            return await run(NO_PREFLIGHT)
        async with acting(wired) as preflight:  # writes only under the leader lease
            return await run(preflight)


def plan(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan document.")] = False,
) -> None:
    """Show the licence steps offboard would take, and why (changes nothing in Atlassian).

    The report's figures are kept in the history. Exit code 0: nothing to do; 2: steps
    planned; 3: a guard blocked the plan. Example: offboard licences plan
    """
    from offboard.cli.fitting import plain_console
    from offboard.cli.render import guard_lines, plan_table
    from offboard.cli.report import show

    result = asyncio.run(run_pass(state_of(ctx).settings(), apply=False))
    console = plain_console()
    if as_json:
        typer.echo(plan_to_json(result.plan), nl=False)
    else:
        show(result.report, console)
        table = plan_table(
            result.plan, width=console.width, reasons_hint="--json, or a wider terminal"
        )
        console.print(table)
        console.print(guard_lines(result.plan))
    raise typer.Exit(plan_exit_code(result.plan))


def apply(
    ctx: typer.Context, yes: YesOption = False, override_guard: OverrideOption = None
) -> None:
    """Carry out the licence steps: warn, remove access, delete (if configured), give back,
    revoke leavers' API tokens. Each step is journaled and read back.

    Example: offboard licences apply --yes
    """
    from offboard.cli.fitting import plain_console
    from offboard.cli.prompts import confirm
    from offboard.cli.render import apply_table, plan_table

    settings = state_of(ctx).settings()
    console = plain_console()
    # The shared question: no terminal, Ctrl-D or anything but "y" refuse alike (exit 5).
    confirm(console, "Apply the licence steps now?", yes=yes)
    overrides = frozenset(override_guard or ())
    result = asyncio.run(run_pass(settings, apply=True, overrides=overrides))
    console.print(plan_table(result.plan, include_skipped=False, width=console.width))
    if result.blocked is not None:
        console.print(result.blocked, markup=False)
        raise typer.Exit(ExitCode.BLOCKED)
    if result.applied is None:
        console.print("nothing to do")
        return
    console.print(apply_table(result.applied))
    if not result.applied.all_done:
        raise typer.Exit(ExitCode.INCOMPLETE)


def register(app: typer.Typer) -> None:
    """Add the `licences` group to the root app."""
    licences_app.command("plan")(plan)
    licences_app.command("apply")(apply)
    app.add_typer(licences_app, name="licences")
