"""`offboard deactivate USER` / `offboard reactivate USER`: one person, the same rules.

The person is re-checked through the pipeline (a fresh read by id, the same policy, guards
and journal as every run); the command only says which direction the operator expects and
refuses when the rules decide otherwise.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated

import typer

from offboard.cli.apply import OverrideOption, YesOption, act_exit_code, print_held
from offboard.cli.errors import RefusedError
from offboard.cli.plan import PlanFormat, show_plan
from offboard.cli.state import state_of
from offboard.core.accounts import AccountStatus
from offboard.core.identities import IdentityId, normalise_email
from offboard.core.plan import GuardName, Plan, Rule
from offboard.core.policy import DEPROVISIONING_KINDS, LINK_KINDS, REPROVISIONING_KINDS, ActionKind

if TYPE_CHECKING:
    from rich.console import Console

    from offboard.cli.flows import Wired
    from offboard.executor import ApplyReport
    from offboard.service.reconciling import PlanResult


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
UserArgument = Annotated[str, typer.Argument(help="The person's email or Keycloak user id.")]


async def resolve_identity(wired: Wired, user: str) -> IdentityId:
    """A Keycloak id as given, else the one identity an email belongs to (links first)."""
    if _UUID.fullmatch(user.strip()):
        return IdentityId(user.strip().lower())
    email = normalise_email(user)
    linked = {link.identity_id for link in wired.store.links() if link.email == email}
    if len(linked) == 1:
        return next(iter(linked))
    snapshot = await wired.source.snapshot()
    found = {i.id for i in snapshot.identities if i.normalised_email == email}
    if not found:
        raise RefusedError(f"no Keycloak user in scope has the email {email}; pass the user's id")
    if len(found) > 1:
        ids = ", ".join(sorted(found))
        raise RefusedError(f"several Keycloak users have the email {email} ({ids}); pass an id")
    return next(iter(found))


_PROTECTED = frozenset(
    {Rule.PROTECTED_PRINCIPAL, Rule.PROTECTED_ORG_ADMIN, Rule.PROTECTED_KEY_OWNER}
)
"""Rules under which no operator act touches the account: `cutoff now` refuses them too."""


def check_direction(
    plan: Plan, wanted: frozenset[ActionKind], command: str, *, already: bool = False
) -> str | None:
    """Refuse when the rules call for something else or for nothing; None when they call
    for ``command``. ``already``: the account is in the wanted state, which is success."""
    acts = [a for a in plan.actions if a.kind not in LINK_KINDS]
    others = sorted({str(a.kind) for a in acts if a.kind not in wanted})
    if others:
        raise RefusedError(
            f"the rules call for {', '.join(others)} for this person, not {command}; "
            "check their state in Keycloak (offboard follows Keycloak)"
        )
    if acts:
        return None
    if already:
        return f"nothing to {command}: the Atlassian account is already {command}d"
    reasons = "; ".join(f"{e.rule}: {e.reason}" for e in plan.entries) or (
        "Keycloak shows nothing that calls for it"
    )
    message = f"nothing to {command}: {reasons}"
    if any(e.rule in _PROTECTED for e in plan.entries):
        message += ". The account is protected: offboard acts on it in no way (`cutoff now` too)"
    elif command == "deactivate":
        message += (
            ". To remove someone whatever Keycloak says: `offboard cutoff now USER --reason TEXT`"
        )
    # A refusal, not a success: `offboard deactivate X --yes && echo done` must not say done.
    raise RefusedError(message)


def _already(result: PlanResult | None, command: str) -> bool:
    """Whether the person's accounts (read just now) are all in the state ``command`` wants."""
    accounts = result.target.accounts if result is not None else ()
    if command == "reactivate":
        wanted = {AccountStatus.ACTIVE}
    else:
        wanted = {AccountStatus.INACTIVE, AccountStatus.CLOSED}
    return bool(accounts) and all(account.status in wanted for account in accounts)


async def one_person(
    wired: Wired,
    console: Console,
    user: str,
    *,
    command: str,
    wanted: frozenset[ActionKind],
    overrides: frozenset[GuardName],
    yes: bool,
) -> ApplyReport | None:
    """Re-check one person (a planned run), show it, confirm, then apply that very plan.

    The re-check plans without the overrides, so the executor journals each guard lifted.
    """
    from offboard.cli.flows import apply_in_run, stop_if_blocked
    from offboard.cli.prompts import confirm
    from offboard.service.reconciling import recheck_identity, source_pause

    identity_id = await resolve_identity(wired, user)
    checked = await recheck_identity(
        identity_id,
        source=wired.source,
        directory=wired.directory,
        store=wired.store,
        policy=wired.policy,
        clock=wired.clock,
        apply=False,
    )
    assert checked.plan is not None  # a run that returns has planned
    made = checked.plan
    if made.actions or made.entries:
        # An empty plan is no table: the refusal below says why nothing is done.
        show_plan(made, PlanFormat.TABLE, console)
    nothing = check_direction(made, wanted, command, already=_already(checked.result, command))
    if nothing is not None:
        console.print(nothing, markup=False)
        return None
    await stop_if_blocked(wired, made, console, overrides, command, yes=yes)
    confirm(console, f"{command.capitalize()} {user}?", yes=yes)
    # A source anomaly pauses one-person deprovisioning as it pauses the daemon's re-checks;
    # lifting the source guard for this run (--override-guard) is the human way past it.
    lifted = bool(overrides & {GuardName.SOURCE_COUNT_DROP, GuardName.SOURCE_INCOMPLETE})
    paused = "" if lifted else source_pause(wired.store)
    return await apply_in_run(wired, made, console, overrides, kind=command, paused=paused)


def _run(ctx: typer.Context, user: str, command: str, wanted: frozenset[ActionKind],
         overrides: list[GuardName] | None, yes: bool) -> None:  # fmt: skip
    from offboard.cli.fitting import output_console
    from offboard.cli.flows import run_applying
    from offboard.cli.prompts import require_confirmation_channel
    from offboard.cli.render import apply_table
    from offboard.cli.wiring import connect

    settings = state_of(ctx).settings()
    require_confirmation_channel(yes)
    console = output_console()

    async def go() -> ApplyReport | None:
        async with connect(settings) as wired:
            return await one_person(
                wired, console, user, command=command, wanted=wanted,
                overrides=frozenset(overrides or ()), yes=yes,
            )  # fmt: skip

    report = run_applying(go(), console)
    if report is None:
        return
    console.print(apply_table(report))
    print_held(report, console)
    raise typer.Exit(act_exit_code(report))


def deactivate(
    ctx: typer.Context,
    user: UserArgument,
    yes: YesOption = False,
    override_guard: OverrideOption = None,
) -> None:
    """Take one leaver's Atlassian access away now, instead of waiting for the daemon.

    The person must be a leaver in Keycloak (disabled, deleted or out of scope): offboard
    re-reads them by id, applies the same rules, protections and guards as every run,
    shows what it will do, asks, then journals and reads back. It refuses (exit 5) when
    the rules say otherwise or call for nothing (still enabled in Keycloak, locked out only
    for now, a protected account, an unknown email); an account already deactivated is
    success (exit 0). Like apply, it acts under the leader lease: refused (exit 5) while a
    daemon leads.

    Examples: offboard deactivate ada@example.com; offboard deactivate 0f8fad5b-... --yes
    """
    _run(ctx, user, "deactivate", DEPROVISIONING_KINDS, override_guard, yes)


def reactivate(
    ctx: typer.Context,
    user: UserArgument,
    yes: YesOption = False,
    override_guard: OverrideOption = None,
) -> None:
    """Give one returning person their Atlassian access back.

    Only what offboard itself took away, and only when policy.reactivate allows it; the
    person must be enabled and in scope in Keycloak again. Same checks as `deactivate`:
    refused (exit 5) when the rules call for nothing; an active account is success (exit 0).

    Example: offboard reactivate ada@example.com
    """
    _run(ctx, user, "reactivate", REPROVISIONING_KINDS, override_guard, yes)


def register(app: typer.Typer) -> None:
    """Add `deactivate` and `reactivate` to the root app."""
    app.command("deactivate")(deactivate)
    app.command("reactivate")(reactivate)
