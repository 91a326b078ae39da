"""`offboard retry ACTION_ID`: retry a failed action, re-planned from fresh reads.

Wiring only: the checks and the act are ``offboard.service.retrying``'s, shared with the
console.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from offboard.cli.actor import ActorOption, ReasonOption, actor_name
from offboard.cli.errors import RefusedError
from offboard.cli.exit_codes import ExitCode
from offboard.cli.state import state_of
from offboard.core.reasons import realm_name

if TYPE_CHECKING:
    from offboard.service.retrying import RetryReport


def retry(
    ctx: typer.Context,
    action_id: Annotated[
        str,
        typer.Argument(
            metavar="ACTION_ID",
            help="The failed action, KIND:KEYCLOAK_ID:ACCOUNT_ID (`offboard journal list`).",
        ),
    ],
    reason: ReasonOption,
    actor: ActorOption = None,
) -> None:
    """Retry a failed action: re-plan that person from fresh reads (journaled, who and why).

    The retry is journaled first; then offboard applies what the rules decide now, under
    the guards, the budget and the lease. Nothing is replayed from the failed attempt.
    While an `offboard run` daemon leads, the retry is journaled and left to the daemon,
    whose next full reconciliation re-plans the person (the console also asks it to
    re-check them at once). Exit 0 when the re-check
    applied or found nothing to do, 5 when refused, 6 when some action is still not done.

    Example: offboard retry deactivate:1b2c…:5b10a2… --reason "Atlassian was down at 02:00"
    """
    from offboard.cli.fitting import output_console
    from offboard.cli.flows import run_applying
    from offboard.cli.wiring import connect
    from offboard.executor.preflight import Preflight
    from offboard.service.acting import LeaderBusyError, acting_lease
    from offboard.service.operator import Act, OperatorRefusedError, Sides
    from offboard.service.retrying import retry_action

    settings = state_of(ctx).settings()
    try:
        act = Act(actor_name(actor), reason)
    except OperatorRefusedError as exc:
        raise typer.BadParameter(str(exc), param_hint="--reason") from None
    console = output_console()
    realm = realm_name(f"/realms/{settings.keycloak.realm}")

    async def go() -> RetryReport:
        async with connect(settings) as wired:
            sides = Sides(wired.source, wired.directory, wired.store, wired.clock,
                          wired.policy, realm)  # fmt: skip
            try:
                async with acting_lease(wired.store, wired.clock, wired.lease_ttl) as fence:
                    preflight = Preflight(fence, wired.source, wired.reconfirm_after)
                    return await retry_action(action_id, act, sides, preflight=preflight)
            except LeaderBusyError:
                return await retry_action(action_id, act, sides, preflight=None)

    try:
        report = run_applying(go(), console)
    except OperatorRefusedError as exc:
        raise RefusedError(str(exc)) from None
    if report.run is None:
        console.print(
            f"retry of {report.failed.action_key} journaled. A running daemon leads: its next "
            "full reconciliation re-plans this person from fresh reads.",
            markup=False,
        )
        return
    console.print(report.words(), markup=False)
    if report.run.status not in ("applied", "planned"):
        raise typer.Exit(ExitCode.INCOMPLETE)


def register(app: typer.Typer) -> None:
    """Add the `retry` command to the root app."""
    app.command("retry")(retry)
