"""Commands imported only when used, so that `offboard --help` starts in a fraction of a second.

Each command lives in its own module with a ``register(app)`` function. The root group
knows them by name, module and one-line help; it imports a module only when its command
runs, is asked for help, or is completed. ``offboard --help`` lists the one-line helps
from this table (a test checks they match the commands' own). A new command is one more
entry here; one registered the eager way on the root app still works, at start-up cost.
"""

from __future__ import annotations

import importlib
from typing import NamedTuple

import typer
from typer._click import Command, Context, HelpFormatter

from offboard.cli import lean
from offboard.cli.group import OffboardGroup


class LazyCommand(NamedTuple):
    module: str
    short_help: str


COMMANDS: dict[str, LazyCommand] = {
    "config": LazyCommand("offboard.cli.config", "Write, check and show the configuration."),
    "plan": LazyCommand(
        "offboard.cli.plan",
        "Read Keycloak and Atlassian, and show what offboard would do, and why.",
    ),
    "apply": LazyCommand(
        "offboard.cli.apply",
        "Carry out a plan: deactivate, suspend or reactivate, journaled and read back.",
    ),
    "deactivate": LazyCommand(
        "offboard.cli.users",
        "Take one leaver's Atlassian access away now, instead of waiting for the daemon.",
    ),
    "reactivate": LazyCommand(
        "offboard.cli.users", "Give one returning person their Atlassian access back."
    ),
    "cutoff": LazyCommand(
        "offboard.cli.cutoff",
        "Cut one person off now, whatever Keycloak says; lift such a cut-off by hand.",
    ),
    "links": LazyCommand(
        "offboard.cli.links",
        "See and decide who is paired with which account (journaled with who and why).",
    ),
    "provision": LazyCommand(
        "offboard.cli.provision",
        "Joiners and movers: create users and push selected groups to Atlassian by SCIM.",
    ),
    "hold": LazyCommand(
        "offboard.cli.hold",
        "Show or release the holds that stop deprovisioning or provisioning (budget or "
        "blocked plan).",
    ),
    "notify": LazyCommand(
        "offboard.cli.notify", "Check the notification channels: send a test message to each."
    ),
    "retry": LazyCommand(
        "offboard.cli.retry",
        "Retry a failed action: re-plan that person from fresh reads (journaled, who and why).",
    ),
    "journal": LazyCommand(
        "offboard.cli.journal", "Read the journal: every intent, attempt, outcome and read-back."
    ),
    "report": LazyCommand(
        "offboard.cli.report",
        "Reports: seats held by leavers, inactive people, orphans and unlinked SCIM records.",
    ),
    "licences": LazyCommand(
        "offboard.cli.licences",
        "The licence steps: inactivity warnings and removals, leavers' API tokens.",
    ),
    "store": LazyCommand(
        "offboard.cli.store_cmd",
        "Migrate, back up, restore, measure and prune the state store (SQLite or PostgreSQL).",
    ),
    "run": LazyCommand(
        "offboard.cli.run",
        "Run the daemon: event re-checks, periodic reconciliation, webhooks and /metrics.",
    ),
    "demo": LazyCommand(
        "offboard.cli.demo",
        "Run the whole job against bundled emulators: no configuration, nothing beyond loopback.",
    ),
    "emulate": LazyCommand(
        "offboard.cli.emulate",
        "Run the bundled emulators on loopback and print a configuration pointing at them.",
    ),
    "emulate-leave": LazyCommand(
        "offboard.cli.emulate_leave",
        "Disable (or delete, or re-enable) a user in the Keycloak emulator of `offboard emulate`.",
    ),
}


def load_command(name: str) -> Command | None:
    """The click command ``name``, built from its module's ``register``."""
    entry = COMMANDS.get(name)
    if entry is None:
        return None
    holder = typer.Typer(rich_markup_mode=None)
    importlib.import_module(entry.module).register(holder)
    group = typer.main.get_group(holder)
    return group.commands.get(name)


class LazyGroup(OffboardGroup):
    """The root group: commands from ``COMMANDS``, imported on first use."""

    def list_commands(self, ctx: Context) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in COMMANDS if n not in self.commands)]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None:
            lean.before_command()
            command = load_command(cmd_name)
            if command is not None:
                self.add_command(command, cmd_name)
        return command

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        """The command list from the table: listing must not import every command."""
        rows = [(name, entry.short_help) for name, entry in COMMANDS.items()]
        # Commands registered the eager way (``app.command``) are listed too.
        rows += [
            (name, command.get_short_help_str(limit=formatter.width))
            for name, command in self.commands.items()
            if name not in COMMANDS and not command.hidden
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)
