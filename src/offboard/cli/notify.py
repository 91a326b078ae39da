"""`offboard notify test`: send a test message to each configured notification channel.

Wiring only: the channels come from ``[notifications]`` (``cli.notify_wiring``); the words
from ``core.notifications``. Nothing is remembered in the store: a test is not a condition.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from offboard.cli.errors import FailedError
from offboard.cli.exit_codes import ExitCode
from offboard.cli.state import state_of
from offboard.core.notifications import Condition, Kind, render
from offboard.ports import OffboardError, SystemClock

if TYPE_CHECKING:
    from offboard.settings import Settings


notify_app = typer.Typer(
    help="Check the notification channels: send a test message to each.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


class ChannelName(StrEnum):
    """The channels [notifications] can configure (a typo is a usage error listing them)."""

    EMAIL = "email"
    SLACK = "slack"
    WEBHOOK = "webhook"


TEST_MESSAGE = Condition(
    Kind.TEST,
    "test",
    "test notification: this channel reaches the people who run offboard",
    ("Sent by `offboard notify test`; nothing needs a human.",),
    ("nothing; when a real notification comes, it says what to do",),
)


@notify_app.command("test")
def send_test(
    ctx: typer.Context,
    channel: Annotated[
        ChannelName | None,
        typer.Option(help="Only this channel: email, slack or webhook (default: every one)."),
    ] = None,
) -> None:
    """Send a test message to each configured channel and say which got through.

    Exits 1 when a channel failed (the reason is shown, never a URL or a password) or when
    no channel (or not the one asked for) is configured.

    Example: offboard notify test --channel slack
    """
    from offboard.cli.fitting import plain_console

    settings = state_of(ctx).settings()
    results = asyncio.run(_send_tests(settings, channel.value if channel else None))
    console = plain_console()
    for name, problem in results.items():
        console.print(f"{name}: {problem or 'sent'}", markup=False)
    if any(results.values()):
        raise typer.Exit(ExitCode.ERROR)


async def _send_tests(settings: Settings, only: str | None) -> dict[str, str]:
    """Channel name → "" when sent, else what went wrong."""
    from offboard.cli.notify_wiring import build_channels

    async with AsyncExitStack() as stack:
        channels = build_channels(settings, stack, SystemClock())
        if only is not None:
            channels = {n: c for n, c in channels.items() if n == only}
        if not channels:
            wanted = f"the {only} channel is not" if only else "no channel is"
            raise FailedError(
                f"{wanted} configured: see [notifications] in docs/howto/notifications.md"
            )
        text = render(TEST_MESSAGE, settings.notifications.console_url)
        results: dict[str, str] = {}
        for name, channel in channels.items():
            try:
                await channel.send(TEST_MESSAGE, text)
                results[name] = ""
            except OffboardError as error:
                results[name] = f"failed: {error}"
        return results


def register(app: typer.Typer) -> None:
    """Add the `notify` group to the root app."""
    app.add_typer(notify_app, name="notify")
