"""`offboard links list|set|remove|resolve`: see and decide who is paired with which account.

Wiring only: the checks, the refusals and the journal are ``offboard.service.links_admin``'s.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from offboard.cli.actor import ActorOption, ReasonOption, actor_name
from offboard.cli.errors import RefusedError
from offboard.cli.state import state_of
from offboard.core.links import Link
from offboard.core.reasons import realm_name

if TYPE_CHECKING:
    from rich.table import Table

    from offboard.service.operator import Act, Sides


links_app = typer.Typer(
    help="See and decide who is paired with which account (journaled with who and why).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
_HEADERS = ("keycloak id", "account", "email", "state", "by hand", "linked")
KeycloakIdArgument = Annotated[str, typer.Argument(help="The Keycloak user id.")]


class ListFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


class StateChoice(StrEnum):
    """The ``--state`` choices: ``service.links_admin.LinkState``'s values (a test checks),
    declared here so that `--help` does not import the service."""

    ACTIVE = "active"
    LEAVING = "leaving"
    DEACTIVATED = "deactivated"
    CUT_OFF = "cut-off"


@links_app.command("list")
def list_command(
    ctx: typer.Context,
    person: Annotated[
        str | None, typer.Option(help="Only this person: a Keycloak user id or an email.")
    ] = None,
    account: Annotated[str | None, typer.Option(help="Only this Atlassian account id.")] = None,
    state: Annotated[StateChoice | None, typer.Option(help="Only links in this state.")] = None,
    fmt: Annotated[ListFormat, typer.Option("--format", help="table or json.")] = ListFormat.TABLE,
) -> None:
    """List links: Keycloak user, Atlassian account, remembered email, state, since when.

    States: active, leaving (grace period running), deactivated (offboard took the access
    away), cut-off (taken by hand; only a human gives it back).

    Example: offboard links list --state cut-off
    """
    from offboard.cli.fitting import output_console
    from offboard.cli.wiring import open_configured_store
    from offboard.service.links_admin import LinkState, list_links

    store = open_configured_store(state_of(ctx).settings())
    try:
        chosen = None if state is None else LinkState(state.value)
        found = list_links(store, person=person, account=account, state=chosen)
    finally:
        store.close()
    if fmt is ListFormat.JSON:
        typer.echo(json.dumps([_as_dict(link) for link in found], indent=2))
        return
    console = output_console()
    console.print(_table(found, console.width))


@links_app.command("set")
def set_command(
    ctx: typer.Context,
    keycloak_id: KeycloakIdArgument,
    account_id: Annotated[str, typer.Argument(help="The Atlassian account id.")],
    reason: ReasonOption,
    actor: ActorOption = None,
) -> None:
    """Pair a Keycloak user with an Atlassian account by hand.

    Both are read fresh first; refused when the account or the user is already paired
    (remove that link first) or either does not exist. Journaled as rule linked-by-hand.

    Example: offboard links set 0f8fad5b-... 5b10ac8d82e05b22cc7d4ef5 --reason "same person"
    """
    from offboard.service.links_admin import set_link

    _change(ctx, reason, actor, lambda act, sides: set_link(keycloak_id, account_id, act, sides))


@links_app.command("remove")
def remove_command(
    ctx: typer.Context,
    keycloak_id: KeycloakIdArgument,
    account_id: Annotated[
        str | None, typer.Argument(help="The account id, when the user has several links.")
    ] = None,
    reason: ReasonOption = "",
    actor: ActorOption = None,
) -> None:
    """Forget a pairing (journaled as rule unlinked-by-hand).

    Refused when offboard took the account's access away (give it back first), or when
    the next plan would pair them again (same email, both active).

    Example: offboard links remove 0f8fad5b-... --reason "wrong person"
    """
    from offboard.service.links_admin import remove_link

    _change(ctx, reason, actor,
            lambda act, sides: remove_link(keycloak_id, account_id, act, sides))  # fmt: skip


@links_app.command("resolve")
def resolve_command(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The email several Keycloak users share.")],
    keycloak_id: Annotated[str, typer.Argument(help="The Keycloak user who owns the account.")],
    reason: ReasonOption,
    actor: ActorOption = None,
) -> None:
    """Decide an ambiguous identity: the account with EMAIL belongs to this Keycloak user.

    For the plan's ambiguous-identities case (two Keycloak users, one email). The chosen
    user must have that email and be unpaired, and one Atlassian account must hold it;
    the others claiming it are then shown as decided-by-hand, no longer blocked.

    Example: offboard links resolve shared@example.com 0f8fad5b-... --reason "HR confirmed"
    """
    from offboard.service.links_admin import resolve_identity

    _change(ctx, reason, actor, lambda act, sides: resolve_identity(email, keycloak_id, act, sides))


def _change(
    ctx: typer.Context,
    reason: str,
    actor: str | None,
    work: Callable[[Act, Sides], Awaitable[Link]],
) -> None:
    from offboard.cli.fitting import output_console
    from offboard.cli.wiring import connect
    from offboard.service.operator import Act, OperatorRefusedError, Sides

    settings = state_of(ctx).settings()
    try:
        act = Act(actor_name(actor), reason)
    except OperatorRefusedError as exc:
        raise typer.BadParameter(str(exc), param_hint="--reason") from None
    realm = realm_name(f"/realms/{settings.keycloak.realm}")

    async def go() -> Link:
        async with connect(settings) as wired:
            sides = Sides(wired.source, wired.directory, wired.store, wired.clock,
                          wired.policy, realm)  # fmt: skip
            try:
                return await work(act, sides)
            except OperatorRefusedError as exc:
                raise RefusedError(str(exc)) from None

    link = asyncio.run(go())
    console = output_console()
    console.print(f"done ({act.words}); journaled", markup=False)
    console.print(_table([link], console.width))


def _as_dict(link: Link) -> dict[str, object]:
    from offboard.service.links_admin import state_of as link_state

    return {
        "keycloak_id": link.identity_id,
        "account_id": link.account_id,
        "email": link.email,
        "state": link_state(link).value,
        "linked_at": link.linked_at.isoformat(),
        "linked_by_hand": link.linked_by_hand,
        "deactivated_at": link.deactivated_at.isoformat() if link.deactivated_at else None,
    }


def _table(links: list[Link], width: int) -> Table:
    from offboard.cli.fitting import fitted_table
    from offboard.service.links_admin import state_of as link_state

    rows = [
        {
            "keycloak id": link.identity_id,
            "account": link.account_id,
            "email": link.email or "",
            "state": link_state(link).value,
            "by hand": "yes" if link.linked_by_hand else "",
            "linked": f"{link.linked_at:%Y-%m-%d}",
        }
        for link in links
    ]
    keep = ("keycloak id", "account", "email", "state")
    title = f"{len(links)} links"
    return fitted_table(title, rows, width, keep=keep, drop_first=("linked", "by hand"),
                        headers=_HEADERS)  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add the `links` group to the root app."""
    app.add_typer(links_app, name="links")
