"""`offboard hold show|release`: what holds deprovisioning (or a kind of provisioning) back,
and the human way on.

Both are thin faces of ``offboard.service.holds``; a console will call the same functions.
"""

from __future__ import annotations

import asyncio
import functools
from typing import TYPE_CHECKING, Annotated

import typer

from offboard.cli.errors import RefusedError
from offboard.cli.exit_codes import ExitCode
from offboard.cli.state import state_of
from offboard.core.budget import BudgetCategory
from offboard.core.holds import Hold
from offboard.core.printable import printable
from offboard.ports import NoHoldError, SystemClock

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from offboard.service.holds import GuardState, ReleaseReport
    from offboard.settings import Settings


hold_app = typer.Typer(
    help="Show or release the holds that stop deprovisioning or provisioning (budget or "
    "blocked plan).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def state_lines(state: GuardState) -> list[str]:
    """The budget per window, the source anomaly and the hold, in words (each printable:
    a hold's message quotes values from Keycloak and Atlassian)."""
    return [printable(line) for line in _state_words(state)]


def _state_words(state: GuardState) -> list[str]:
    lines = [
        f"budget {u.name}: {u.used} of {u.limit} deprovisioning actions used, {u.left} left"
        for u in state.usage
    ]
    if state.source_anomaly:
        lines.append(f"re-checks paused by a source anomaly: {state.source_anomaly}")
    if state.hold is None:
        lines.append("no hold: deprovisioning goes on under the guards and the budget")
    else:
        hold = state.hold
        lines += [
            f"HOLD #{hold.id} since {hold.since.isoformat()}, put by {', '.join(hold.guards)}",
            f"  {hold.message}",
            f"  {len(hold.people)} people waiting; release with "
            "`offboard hold release --reason TEXT`, or apply the held plan with "
            f"`offboard apply --override-guard {hold.guards[0]}`",
        ]
    for other in state.other_holds:
        lines += [
            f"HOLD #{other.id} on {other.category} since {other.since.isoformat()}, put by "
            f"{', '.join(other.guards)}",
            f"  {other.message}",
            f"  {len(other.waiting)} {other.category} actions waiting; release with "
            f"`offboard hold release --category {other.category} --reason TEXT`",
        ]
    return lines


def waiting_table(hold: Hold) -> Table:
    from rich.table import Table

    title = f"waiting on {hold.category} hold #{hold.id}"
    table = Table(title=title, title_justify="left")
    for column in ("since", "action", "email", "identity", "account"):
        table.add_column(column, overflow="fold")
    for item in hold.waiting:  # emails and ids from the vendors: shown, never run
        cells = (item.since.isoformat(), item.kind, item.email or "", item.identity_id,
                 item.account_id)  # fmt: skip
        table.add_row(*map(printable, cells))
    return table


@hold_app.command("show")
def show(ctx: typer.Context) -> None:
    """Show every active hold (guard, numbers, since when, everyone waiting), one per
    category (deprovisioning, provisioning-creates, provisioning-updates,
    provisioning-membership-removals), and the deprovisioning budget left.

    Exit code 0 when no hold is active, 3 when any category is held.
    """
    from offboard.cli.fitting import plain_console
    from offboard.cli.wiring import open_configured_store
    from offboard.service.holds import guard_state

    settings = state_of(ctx).settings()
    store = open_configured_store(settings)
    try:
        state = guard_state(store, settings.policy_model(), SystemClock())
    finally:
        store.close()
    console = plain_console()
    for line in state_lines(state):
        console.print(line, markup=False)
    held = ([state.hold] if state.hold is not None else []) + list(state.other_holds)
    for hold in held:
        console.print(waiting_table(hold))
    if held:
        raise typer.Exit(ExitCode.BLOCKED)


@hold_app.command("release")
def release(
    ctx: typer.Context,
    reason: Annotated[str, typer.Option(help="Why the hold may go (journaled; required).")],
    by: Annotated[
        str | None, typer.Option(help="Who releases it (journaled; default: the OS user).")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Release without asking.")] = False,
    category: Annotated[
        BudgetCategory, typer.Option(help="The hold to release (see `offboard hold show`).")
    ] = BudgetCategory.DEPROVISIONING,
) -> None:
    """Release a hold: journal who and why, then (deprovisioning) re-plan each waiting person
    from a fresh read and act under the rules again (the budget windows start afresh). Only
    the leader writes: while an `offboard run` daemon leads, the release is recorded and the
    daemon re-plans those people at its next pass. A provisioning hold is released for the
    next provisioning pass, which plans from fresh reads and lets the actions that waited
    through.

    Examples: offboard hold release --reason "HR confirmed the 30 leavers of the sales team";
    offboard hold release --category provisioning-creates --reason "first sync of sales"
    """
    from offboard.cli.fitting import plain_console
    from offboard.cli.flows import confirm, operator, require_confirmation_channel
    from offboard.cli.wiring import connect
    from offboard.executor.preflight import Preflight
    from offboard.service.acting import LeaderBusyError, acting_lease
    from offboard.service.holds import release_hold

    settings = state_of(ctx).settings()
    require_confirmation_channel(yes)
    if not reason.strip():
        raise RefusedError("say why the hold is released (--reason): the journal keeps it")
    console = plain_console()
    who = by or operator()
    if category is not BudgetCategory.DEPROVISIONING:
        _release_other(settings, category.value, who, reason, yes, console)
        return

    async def go() -> ReleaseReport:
        async with connect(settings) as wired:
            held = wired.store.active_hold("deprovisioning")
            if held is None:
                raise NoHoldError("no hold is active: nothing to release")
            console.print(waiting_table(held))
            confirm(console, f"Release hold #{held.id} for {len(held.people)} people?", yes=yes)
            release = functools.partial(
                release_hold,
                store=wired.store,
                source=wired.source,
                directory=wired.directory,
                policy=wired.policy,
                clock=wired.clock,
                by=who,
                reason=reason,
            )
            try:
                async with acting_lease(wired.store, wired.clock, wired.lease_ttl) as fence:
                    preflight = Preflight(fence, wired.source, wired.reconfirm_after)
                    return await release(preflight=preflight)
            except LeaderBusyError:
                # A daemon leads: the release is recorded, and the leader re-plans the
                # people who waited at its next pass (only the leader writes).
                return await release(preflight=None)

    try:
        report = asyncio.run(go())
    except NoHoldError as error:
        raise RefusedError(str(error)) from None
    if not report.rechecks and report.hold.people:
        console.print(
            f"hold #{report.hold.id} released by {who}. A running daemon leads: it re-plans the "
            f"{len(report.hold.people)} people who waited from fresh reads at its next pass "
            "(at the latest after daemon.reconcile_interval); `offboard journal runs` shows it.",
            markup=False,
        )
        return
    done = sum(1 for _, run, _ in report.rechecks if run is not None and run.status == "applied")
    console.print(
        f"hold #{report.hold.id} released by {who}; {len(report.rechecks)} people re-planned, "
        f"{done} acted on",
        markup=False,
    )
    for person, run, problem in report.rechecks:
        status = run.status if run is not None else f"failed: {problem}"
        console.print(printable(f"  {person}: {status}"), markup=False)
    unfinished = [r for _, r, _ in report.rechecks if r is None or r.status not in _SETTLED]
    if unfinished:
        raise typer.Exit(ExitCode.INCOMPLETE)


_SETTLED = frozenset({"applied", "planned"})


def _release_other(
    settings: Settings, category: str, who: str, reason: str, yes: bool, console: Console
) -> None:
    """Release a provisioning hold: the store alone (the next pass re-plans)."""
    from offboard.cli.flows import confirm
    from offboard.cli.wiring import open_configured_store
    from offboard.service.holds import release_category

    store = open_configured_store(settings)
    try:
        held = store.active_hold(category)
        if held is None:
            raise RefusedError(f"no {category} hold is active: nothing to release")
        console.print(waiting_table(held))
        confirm(console, f"Release {category} hold #{held.id}?", yes=yes)
        hold = release_category(store, category, clock=SystemClock(), by=who, reason=reason)
    finally:
        store.close()
    console.print(
        f"{category} hold #{hold.id} released by {who}; {len(hold.waiting)} waiting go on at "
        "the next provisioning pass (re-planned from fresh reads)",
        markup=False,
    )


def register(app: typer.Typer) -> None:
    """Add the `hold` group to the root app."""
    app.add_typer(hold_app, name="hold")
