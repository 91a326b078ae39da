"""`offboard apply [PLAN_FILE]`: carry out a reviewed plan, or plan and confirm, then apply.

Only what ``--help`` needs is imported at the top (typer, the options): the store, the
adapters and the renderers are imported when the command runs, so that `offboard apply
--help` starts in a fraction of the time a run needs (``benchmarks/bench_startup.py``).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from offboard.cli.exit_codes import ExitCode
from offboard.cli.plan_options import AdoptOption, ShowLinksOption
from offboard.core.plan import GuardName, Plan, Rule

if TYPE_CHECKING:
    from rich.console import Console

    from offboard.cli.flows import Wired
    from offboard.executor import ApplyReport

OverrideOption = Annotated[
    list[GuardName] | None,
    typer.Option(
        "--override-guard",
        metavar="NAME",
        help="Lift this guard for this run only (repeatable; journaled). "
        "Names: " + ", ".join(g.value for g in GuardName) + ".",
    ),
]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")]
FullOption = Annotated[
    bool,
    typer.Option(
        "--full",
        help="With --yes, show the plan and the outcome as tables of every action (without "
        "it: counts, and a row only for each action not done and verified).",
    ),
]


def read_plan_file(path: Path) -> Plan:
    """The saved plan, or a refusal saying why it cannot be trusted."""
    from offboard.cli.errors import RefusedError
    from offboard.core.rendering import PlanFormatError, plan_from_json

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RefusedError(f"cannot read the plan {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise RefusedError(f"{path} is not a plan document (not UTF-8 text)") from None
    try:
        return plan_from_json(text)
    except PlanFormatError as exc:
        raise RefusedError(f"{path}: {exc}") from None


def check_guards(
    plan: Plan, overrides: frozenset[GuardName], console: Console, *, yes: bool = True
) -> None:
    """Stop on a blocking guard not lifted by --override-guard; have each lift confirmed by
    typing the guard's name (unless --yes), and say which ones are lifted."""
    from offboard.cli.prompts import confirm_overrides
    from offboard.executor import PlanBlockedError

    if any(g.name not in overrides for g in plan.blocked_by):
        raise PlanBlockedError(plan)
    confirm_overrides(console, [str(g.name) for g in plan.blocked_by], yes=yes)
    for guard in plan.blocked_by:
        console.print(f"overriding guard {guard.name} for this run (journaled)", markup=False)


def adopts_backlog(plan: Plan) -> bool:
    """Whether a plan acts on the day-one backlog (rule ``adopted-leaver``)."""
    return any(action.rule is Rule.ADOPTED_LEAVER for action in plan.actions)


def report_exit_code(report: ApplyReport) -> ExitCode:
    """0 when every action is done and read back, 3 when some are held, 6 otherwise."""
    if report.held:
        return ExitCode.BLOCKED
    return ExitCode.OK if report.all_done else ExitCode.INCOMPLETE


def act_exit_code(report: ApplyReport) -> ExitCode:
    """As ``report_exit_code``, for one person's act; 5 when a fresh read just before
    sending skipped all of it (the person changed since): the act was not carried out."""
    return ExitCode.REFUSED if report.not_carried_out else report_exit_code(report)


HELD_PREFIX = "held, not sent: "
"""How the executor opens a held action's detail; a sentence that says it already drops it."""


def print_held(report: ApplyReport, console: Console) -> None:
    """Say what waits, and the way on, when the budget or a hold kept actions back."""
    if report.held:
        console.print(
            f"{len(report.held)} deprovisioning actions held, not sent: "
            f"{report.held[0].detail.removeprefix(HELD_PREFIX)}. See `offboard hold show`.",
            markup=False,
        )


async def apply_flow(
    wired: Wired,
    console: Console,
    *,
    saved: Plan | None,
    overrides: frozenset[GuardName],
    max_age: timedelta,
    yes: bool,
    adopt_backlog: bool = False,
    show_links: bool = False,
    full: bool = True,
) -> ApplyReport | None:
    """Check or make the plan, show it, confirm, apply; None when there was nothing to do."""
    from offboard.cli.flows import apply_in_run, check_saved_plan, fresh_plan, stop_if_blocked
    from offboard.cli.plan import PlanFormat, show_plan
    from offboard.cli.prompts import confirm
    from offboard.cli.summaries import show_plan_summary

    if saved is not None:
        if not adopt_backlog and adopts_backlog(saved):
            # The human decided when planning (`plan --adopt-backlog --out`); the file is
            # sealed, and the fresh plan must still decide exactly the same.
            console.print("the saved plan adopts the day-one backlog (planned with "
                          "--adopt-backlog): so does the fresh plan", markup=False)  # fmt: skip
            adopt_backlog = True
        fresh = (await fresh_plan(wired, console, adopt_backlog=adopt_backlog)).plan
        check_saved_plan(saved, fresh, wired.clock.now(), max_age)
        # The same decisions (same fingerprint), with the reasons and times of fresh reads:
        # nothing the fingerprint leaves out is taken from a file.
        chosen = fresh
        console.print(f"plan {saved.fingerprint[:12]} still holds against fresh reads")
    else:
        # Planned without the overrides: the executor journals each guard it lifts.
        chosen = (await fresh_plan(wired, console, adopt_backlog=adopt_backlog)).plan
    if full:
        show_plan(chosen, PlanFormat.TABLE, console, skipped=False, show_links=show_links)
    else:
        show_plan_summary(chosen, console, show_links=show_links)
    await stop_if_blocked(wired, chosen, console, overrides, "apply", yes=yes)
    if not chosen.has_changes:
        if not chosen.link_updates and not chosen.blocked_by:
            return None
        # Bookkeeping only (grace-period marks, links): saved as the daemon saves it, so that
        # a cron-driven `apply` sees the grace period end too. Nothing is sent; no question.
        # A guard lifted with nothing to send is journaled all the same, and a count drop so
        # accepted becomes the baseline (a narrower scope leaves no one to deprovision).
        return await apply_in_run(wired, chosen, console, overrides)
    confirm(console, f"Apply {len(chosen.actions)} actions?", yes=yes)
    return await apply_in_run(wired, chosen, console, overrides)


def apply(
    ctx: typer.Context,
    plan_file: Annotated[
        Path | None,
        typer.Argument(help="A plan saved by `offboard plan --out`; without it, plan now."),
    ] = None,
    yes: YesOption = False,
    override_guard: OverrideOption = None,
    max_age: Annotated[
        str, typer.Option(help="Refuse a saved plan older than this (e.g. 30m, 2h, 1d).")
    ] = "1h",
    adopt_backlog: AdoptOption = False,
    show_links: ShowLinksOption = False,
    full: FullOption = False,
) -> None:
    """Carry out a plan: deactivate, suspend or reactivate, journaled and read back.

    With PLAN_FILE, the saved plan is checked first: its fingerprint, format version and
    age, and a fresh plan must decide exactly the same, or nothing is applied (exit 5).
    Without it, offboard plans now and asks before applying (--yes skips the question;
    without a terminal --yes is required). A guard that blocks stops everything (exit 3)
    unless lifted with --override-guard NAME, which is journaled. Each deprovisioning
    action spends a slot of the budget over time ([policy.budget]); beyond it, or while a
    hold is active, it is not sent and waits on the hold (exit 3; see `offboard hold show`).
    Overriding every guard of the active hold releases it for this plan (journaled). Ends
    with every outcome and its read-back: exit 0 when all are done, 6 when some are not.
    With --yes, both are printed as counts plus the actions not done (--full: every row).
    A plan with only bookkeeping (grace-period marks) is saved without asking.

    Day one: --adopt-backlog also links and acts on the people who left before offboard was
    watching (journaled with rule adopted-leaver), under the same guards; a PLAN_FILE made
    with `plan --adopt-backlog` carries that decision. It acts under the leader lease:
    refused (exit 5) while an `offboard run` daemon leads.

    Examples: offboard apply plan.json; offboard apply --yes --override-guard max-deactivations;
    offboard apply --adopt-backlog
    """
    from offboard.cli.fitting import output_console
    from offboard.cli.flows import run_applying
    from offboard.cli.prompts import require_confirmation_channel
    from offboard.cli.render import apply_table
    from offboard.cli.state import state_of
    from offboard.cli.summaries import show_apply_summary
    from offboard.cli.wiring import connect
    from offboard.settings import parse_duration

    settings = state_of(ctx).settings()
    require_confirmation_channel(yes)
    try:
        age = parse_duration(max_age)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--max-age") from None
    if not isinstance(age, timedelta):
        raise typer.BadParameter(f"{max_age!r} is not a duration", param_hint="--max-age")
    saved = read_plan_file(plan_file) if plan_file is not None else None
    overrides = frozenset(override_guard or ())
    console = output_console()

    async def go() -> ApplyReport | None:
        async with connect(settings) as wired:
            return await apply_flow(
                wired,
                console,
                saved=saved,
                overrides=overrides,
                max_age=age,
                yes=yes,
                adopt_backlog=adopt_backlog,
                show_links=show_links,
                full=full or not yes,
            )

    report = run_applying(go(), console)
    if report is None:
        console.print("nothing to do")
        return
    if not report.outcomes:
        console.print(f"nothing to send; {report.links_saved} bookkeeping records saved")
        return
    if full or not yes:
        console.print(apply_table(report))
    else:
        show_apply_summary(report, console)
    print_held(report, console)
    raise typer.Exit(report_exit_code(report))


def register(app: typer.Typer) -> None:
    """Add the `apply` command to the root app."""
    app.command("apply")(apply)
