"""`offboard provision plan|apply`: joiners and movers pushed to Atlassian by SCIM.

A command group of its own, rather than more actions in `offboard plan`: a provisioning plan
has its own guards (creates, updates, membership removals) and is applied in two phases, and
an organisation that does not provision never sees it. Leavers stay with `plan`/`apply`/`run`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from offboard.cli.apply import OverrideOption, YesOption, check_guards, read_plan_file
from offboard.cli.errors import RefusedError
from offboard.cli.exit_codes import ExitCode
from offboard.cli.plan import MARKDOWN_HINT, PlanFormat, plan_exit_code, save_plan, show_plan
from offboard.cli.state import state_of
from offboard.core.plan import GuardName, Plan
from offboard.core.rendering import plan_to_json
from offboard.ports import SystemClock

if TYPE_CHECKING:
    from offboard.adapters.atlassian import AtlassianDirectory
    from offboard.adapters.keycloak import KeycloakSource
    from offboard.executor import ApplyReport
    from offboard.service.provisioning import Provisioning
    from offboard.settings import Settings


provision_app = typer.Typer(
    help="Joiners and movers: create users and push selected groups to Atlassian by SCIM.",
    no_args_is_help=True,
)


@asynccontextmanager
async def provisioning(settings: Settings) -> AsyncIterator[Provisioning]:
    """The provisioning wiring of ``[provisioning]``; refused when it is off or has no key."""
    from offboard.cli.wiring import build_directory, build_source

    if not settings.provisioning.enabled:
        raise RefusedError("provisioning is off: set provisioning.enabled = true")
    at = settings.atlassian
    if not (at.scim_directory_id and at.scim_api_key):
        raise RefusedError(
            "provisioning needs atlassian.scim_directory_id and the SCIM directory key "
            "(atlassian.scim_api_key or scim_api_key_file)"
        )
    async with build_source(settings) as source, build_directory(settings) as directory:
        yield provisioning_of(settings, source, directory)


def provisioning_of(
    settings: Settings, source: KeycloakSource, directory: AtlassianDirectory
) -> Provisioning:
    """Provisioning over adapters already built (by this command or by the daemon)."""
    from offboard.adapters.atlassian_scim.provisioning import ScimProvisioner
    from offboard.adapters.keycloak.people import PeopleReader
    from offboard.service.provisioning import Provisioning

    if directory.scim is None:
        raise RefusedError("provisioning needs the SCIM directory id and key")
    chosen = settings.provisioning
    return Provisioning(
        people=PeopleReader(source.reader, source.scope, attributes=chosen.attributes),
        provisioner=ScimProvisioner(directory.scim),
        directory=directory,
        groups=chosen.groups,
        group_prefixes=chosen.group_prefixes,
        thresholds=chosen.thresholds(),
        budgets=chosen.budget.models(),
    )


@provision_app.command("plan")
def plan(
    ctx: typer.Context,
    fmt: Annotated[
        PlanFormat, typer.Option("--format", help="table (default), markdown or json.")
    ] = PlanFormat.TABLE,
    out: Annotated[
        Path | None, typer.Option(help="Also save the plan (JSON) for `provision apply FILE`.")
    ] = None,
) -> None:
    """Show the SCIM users, groups and memberships offboard would create or change, and why.

    Nothing is changed. Conflicts (no email, an email another account holds, a group name
    taken) are listed as blocked with their reason. Exit 0: nothing to do; 2: changes
    planned; 3: a guard blocked the plan.

    Examples: offboard provision plan; offboard provision plan --out provision.json
    """
    from offboard.cli.fitting import plain_console
    from offboard.cli.wiring import open_configured_store

    settings = state_of(ctx).settings()

    async def go() -> Plan:
        store = open_configured_store(settings)
        try:
            async with provisioning(settings) as prov:
                return await prov.plan(SystemClock(), store=store)
        finally:
            store.close()

    made = asyncio.run(go())
    show_plan(made, fmt, plain_console(), reasons_hint=MARKDOWN_HINT)
    if out is not None:
        save_plan(made, out)
    raise typer.Exit(plan_exit_code(made))


@provision_app.command("apply")
def apply(
    ctx: typer.Context,
    plan_file: Annotated[
        Path | None,
        typer.Argument(help="A plan saved by `provision plan --out`; without it, plan now."),
    ] = None,
    yes: YesOption = False,
    override_guard: OverrideOption = None,
    max_age: Annotated[
        str, typer.Option(help="Refuse a saved plan older than this (e.g. 30m, 2h, 1d).")
    ] = "1h",
) -> None:
    """Create and update SCIM users, create groups, then add and remove members.

    Each write is journaled, retried, verified by a read-back and never sent twice for one
    plan. A saved PLAN_FILE must still be what a fresh plan decides (exit 5 otherwise). A
    blocking guard stops everything (exit 3) unless lifted with --override-guard NAME (a
    first sync lifts max-creates). A write beyond the provisioning budget over time
    (`[provisioning.budget]`) is held, not sent, until `offboard hold release --category`.
    Exit 0 when every write is done, 3 when some are held, 6 when some are not done.

    Examples: offboard provision apply --yes; offboard provision apply provision.json
    """
    from offboard.cli.fitting import plain_console
    from offboard.cli.flows import (
        check_saved_plan,
        confirm,
        require_confirmation_channel,
        run_applying,
    )
    from offboard.cli.render import apply_table
    from offboard.settings import parse_duration

    settings = state_of(ctx).settings()
    require_confirmation_channel(yes)
    age = parse_duration(max_age)
    if not isinstance(age, timedelta):
        raise typer.BadParameter(f"{max_age!r} is not a duration", param_hint="--max-age")
    saved = read_plan_file(plan_file) if plan_file is not None else None
    overrides = frozenset(override_guard or ())
    console = plain_console()

    async def go() -> list[ApplyReport]:
        async with provisioning(settings) as prov:
            clock = SystemClock()
            fresh = await _fresh_plan(prov, settings, clock)
            if saved is not None:
                check_saved_plan(saved, fresh, clock.now(), age)
            chosen = saved or fresh
            show_plan(chosen, PlanFormat.TABLE, console, skipped=False)
            check_guards(chosen, overrides, console)
            if not chosen.has_changes:
                return []
            confirm(console, f"Apply {len(chosen.actions)} SCIM writes?", yes=yes)
            return await _apply_in_run(prov, chosen, settings, overrides)

    reports = run_applying(go(), console)
    if not reports:
        console.print("nothing to do")
        return
    for report in reports:
        if report.outcomes:
            console.print(apply_table(report))
    held = [o for report in reports for o in report.held]
    if held:
        console.print(
            f"{len(held)} SCIM writes {held[0].detail}. See `offboard hold show`.",
            markup=False,
        )
        raise typer.Exit(ExitCode.BLOCKED)
    done = all(report.all_done for report in reports)
    raise typer.Exit(ExitCode.OK if done else ExitCode.INCOMPLETE)


async def _fresh_plan(prov: Provisioning, settings: Settings, clock: SystemClock) -> Plan:
    from offboard.cli.wiring import open_configured_store

    store = open_configured_store(settings)
    try:
        return await prov.plan(clock, store=store)
    finally:
        store.close()


async def _apply_in_run(
    prov: Provisioning, plan: Plan, settings: Settings, overrides: frozenset[GuardName]
) -> list[ApplyReport]:
    from offboard.cli.wiring import open_configured_store
    from offboard.executor.preflight import Preflight
    from offboard.service.acting import LeaderBusyError, acting_lease

    clock, store = SystemClock(), open_configured_store(settings)
    try:
        run_id = store.start_run("provision", clock.now())
        store.save_plan(run_id, plan.fingerprint, plan_to_json(plan))
        try:
            async with acting_lease(store, clock, settings.daemon.lease_ttl) as fence:
                reports = await prov.apply(
                    plan,
                    store=store,
                    clock=clock,
                    run_id=run_id,
                    overrides=overrides,
                    preflight=Preflight(fence=fence),
                )
        except LeaderBusyError as error:
            store.finish_run(run_id, clock.now(), "refused", {"fingerprint": plan.fingerprint})
            raise RefusedError(f"{error}; nothing was applied") from None
        except BaseException:
            store.finish_run(run_id, clock.now(), "failed", {"fingerprint": plan.fingerprint})
            raise
        status = "applied" if all(r.all_done for r in reports) else "incomplete"
        store.finish_run(run_id, clock.now(), status, {"fingerprint": plan.fingerprint})
        return reports
    finally:
        store.close()


def register(app: typer.Typer) -> None:
    """Add the `provision` command group to the root app."""
    app.add_typer(provision_app, name="provision")
