"""`offboard cutoff now|lift`: take one person's access away now, and give it back by hand.

Wiring only: the checks and the act are ``offboard.service.operator``'s, shared with any
other face.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated

import typer

from offboard.cli.actor import ActorOption, ReasonOption, actor_name
from offboard.cli.apply import OverrideOption, YesOption, act_exit_code, check_guards
from offboard.cli.errors import RefusedError
from offboard.cli.plan import PlanFormat, show_plan
from offboard.cli.state import state_of
from offboard.core.plan import GuardName
from offboard.core.reasons import realm_name

if TYPE_CHECKING:
    from offboard.cli.flows import Wired
    from offboard.core.operator_requests import OperatorRequest
    from offboard.service.operator import Act, Prepared, Sides


cutoff_app = typer.Typer(
    help="Cut one person off now, whatever Keycloak says; lift such a cut-off by hand.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
PersonArgument = Annotated[
    str, typer.Argument(help="The person's email (their Atlassian account) or Keycloak user id.")
]
Prepare = Callable[[str, "Act", "Sides"], Awaitable["Prepared"]]
WaitOption = Annotated[
    float,
    typer.Option(
        "--wait",
        min=0,
        metavar="SECONDS",
        help="While a daemon leads, how long to wait for it to carry the act out.",
    ),
]


@cutoff_app.command("now")
def now(
    ctx: typer.Context,
    person: PersonArgument,
    reason: ReasonOption,
    actor: ActorOption = None,
    yes: YesOption = False,
    override_guard: OverrideOption = None,
    wait: WaitOption = 60.0,
) -> None:
    """Deprovision one person now, even while Keycloak still shows them enabled.

    For when someone must lose access before HR has updated Keycloak. Protected principals
    and the deprovisioning guards still hold. offboard reads the account and the Keycloak
    user fresh, shows the one action, asks, applies it through the executor (journaled as
    rule manual-cutoff, with who and why) and reads the account back. The daemon never
    gives such access back by itself: `offboard cutoff lift` does, by hand.

    While an `offboard run` daemon leads, the confirmed act is handed to it (it acts under
    its own lease, from fresh reads, with the same checks) and this command waits up to
    --wait seconds for the outcome; `offboard cutoff requests` lists what was handed over.

    Example: offboard cutoff now ada@example.com --reason "left today, HR ticket 4411"
    """
    from offboard.service.operator import prepare_cutoff

    _act(ctx, person, reason, actor, yes, override_guard, prepare_cutoff, "Cut off", wait)


@cutoff_app.command("lift")
def lift(
    ctx: typer.Context,
    person: PersonArgument,
    reason: ReasonOption,
    actor: ActorOption = None,
    yes: YesOption = False,
    wait: WaitOption = 60.0,
) -> None:
    """Give back what `offboard cutoff now` took (the person must be enabled in Keycloak).

    While a daemon leads, the act is handed to it, as for `offboard cutoff now`.

    Example: offboard cutoff lift ada@example.com --reason "cut off by mistake"
    """
    from offboard.service.operator import prepare_lift

    _act(ctx, person, reason, actor, yes, None, prepare_lift, "Give back access of", wait)


def _act(ctx: typer.Context, person: str, reason: str, actor: str | None, yes: bool,
         override_guard: list[GuardName] | None, prepare: Prepare,
         verb: str, wait: float) -> None:  # fmt: skip
    from offboard.cli.fitting import output_console
    from offboard.cli.flows import run_applying
    from offboard.cli.handing import act_or_hand_over, show_request
    from offboard.cli.prompts import confirm, require_confirmation_channel
    from offboard.cli.render import apply_table
    from offboard.cli.wiring import connect
    from offboard.executor import ApplyReport
    from offboard.service.operator import Act, OperatorRefusedError

    settings = state_of(ctx).settings()
    require_confirmation_channel(yes)
    try:
        act = Act(actor_name(actor), reason)
    except OperatorRefusedError as exc:
        raise typer.BadParameter(str(exc), param_hint="--reason") from None
    overrides = frozenset(override_guard or ())
    console = output_console()
    realm = realm_name(f"{settings.keycloak.base_url}/admin/realms/{settings.keycloak.realm}")

    async def go() -> ApplyReport | OperatorRequest:
        async with connect(settings) as wired:
            sides = _sides(wired, realm)
            prepared = await _refusing(prepare(person, act, sides))
            console.print(f"Keycloak says {prepared.identity_id} is {prepared.keycloak_note}",
                          markup=False)  # fmt: skip
            show_plan(prepared.plan, PlanFormat.TABLE, console)
            if prepared.refusal is not None:
                raise RefusedError(prepared.refusal)
            check_guards(prepared.plan, overrides, console, yes=yes)
            confirm(console, f"{verb} {person}?", yes=yes)
            return await act_or_hand_over(
                wired, sides, person, prepared, act, overrides, console, wait
            )

    done = run_applying(go(), console)
    if not isinstance(done, ApplyReport):
        raise typer.Exit(show_request(done, console))
    console.print(apply_table(done))
    if done.held:
        console.print(_held_words(person, done.held[0].detail), markup=False)
    raise typer.Exit(act_exit_code(done))


def _held_words(person: str, detail: str) -> str:
    """The way on when the budget or a hold kept the act back: nothing else says it."""
    from offboard.cli.apply import HELD_PREFIX
    from offboard.core.holds import BUDGET_GUARD

    return (
        f"{person}: nothing was sent, held back ({detail.removeprefix(HELD_PREFIX)}). If it "
        f"must happen now, run the same command with --override-guard {BUDGET_GUARD}: the "
        "override is journaled with your name and reason, lets this one person through, and "
        "the others keep waiting."
    )


@cutoff_app.command("requests")
def requests(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many, newest first.")] = 20,
) -> None:
    """The cut-offs and lifts handed to a leading daemon, and what became of each.

    Example: offboard cutoff requests --limit 5
    """
    from offboard.cli.fitting import output_console
    from offboard.cli.wiring import open_configured_store
    from offboard.core.printable import printable
    from offboard.store.operator_requests import StoredRequests

    store = open_configured_store(state_of(ctx).settings(), read_only=True)
    try:
        found = StoredRequests(store.engine).recent(limit)
    finally:
        store.close()
    console = output_console()
    if not found:
        console.print("no cut-off was handed to a daemon", markup=False)
    for r in found:
        when = r.requested_at.strftime("%Y-%m-%d %H:%M:%SZ")
        line = f"#{r.id} {when} {r.kind} {r.person} by {r.actor}: {r.state}"
        console.print(printable(line + (f": {r.outcome}" if r.outcome else "")), markup=False)


def _sides(wired: Wired, realm: str) -> Sides:
    from offboard.service.operator import Sides

    return Sides(wired.source, wired.directory, wired.store, wired.clock, wired.policy, realm)


async def _refusing(work: Awaitable[Prepared]) -> Prepared:
    from offboard.service.operator import OperatorRefusedError

    try:
        return await work
    except OperatorRefusedError as exc:
        raise RefusedError(str(exc)) from None


def register(app: typer.Typer) -> None:
    """Add the `cutoff` group to the root app."""
    app.add_typer(cutoff_app, name="cutoff")
