"""`offboard store migrate|backup|restore`: look after the state store itself.

Upgrading the schema is an explicit step (``store.auto_migrate`` is off by default): back up,
migrate once (a Helm hook Job, or by hand), then roll out the new version. ``--check`` only
reads, so a deploy pipeline can stop when a migration is pending.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from offboard.cli.exit_codes import ExitCode
from offboard.cli.state import state_of

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from offboard.store.backup import Copied
    from offboard.store.migrating import MigrationState


store_app = typer.Typer(
    help="Migrate, back up and restore the state store (SQLite file or PostgreSQL).",
    no_args_is_help=True,
    rich_markup_mode=None,
)

StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="This store file or URL instead of the configured one (a URL here is visible in "
        "the process list: prefer store.url in the configuration or its environment variable).",
    ),
]


@contextmanager
def _engine(ctx: typer.Context, override: str | None) -> Iterator[Engine]:
    from offboard.cli.wiring import announce_created, store_location
    from offboard.store import new_sqlite_file, store_engine

    location = override or store_location(state_of(ctx).settings())
    created = new_sqlite_file(location)
    engine = store_engine(location)
    announce_created(created)
    try:
        yield engine
    finally:
        engine.dispose()


def _describe(state: MigrationState) -> str:
    if state.revision is None:
        return f"the store is empty; `offboard store migrate` creates schema {state.head}"
    if state.pending:
        return f"the store is at revision {state.revision}; migration to {state.head} pending"
    return f"the store is up to date (revision {state.head}, schema version {state.version})"


@store_app.command("migrate")
def migrate_command(
    ctx: typer.Context,
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Change nothing; exit 1 when a migration is pending, 0 when none."
        ),
    ] = False,
    store: StoreOption = None,
) -> None:
    """Upgrade the store's schema to this offboard's (or only check with --check).

    Take a backup first (offboard store backup FILE). A store from a newer offboard is
    refused untouched. Safe to run while old replicas still run only when the upgrade notes
    of the new version say so; otherwise stop them first.

    Example: offboard store migrate --check && echo "nothing to migrate"
    """
    from offboard.store.migrating import migrate, migration_state

    with _engine(ctx, store) as engine:
        before = migration_state(engine)
        if check:
            typer.echo(_describe(before))
            if before.pending:
                raise typer.Exit(ExitCode.ERROR)
            return
        if not before.pending:
            typer.echo(_describe(before))
            return
        migrate(engine)
        after = migration_state(engine)
    typer.echo(f"migrated from {before.revision or 'empty'} to {after.revision}")


@store_app.command("backup")
def backup_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The backup file to write (must not exist).")],
    store: StoreOption = None,
) -> None:
    """Write a consistent copy of the whole store to FILE (a SQLite file), while it runs.

    From SQLite: SQLite's online backup. From PostgreSQL: every table read in one
    REPEATABLE READ snapshot. Either restores on either backend.

    Example: offboard store backup /var/backups/offboard-$(date +%F).sqlite3
    """
    from offboard.store.backup import backup

    with _engine(ctx, store) as engine:
        copied = backup(engine, file)
    typer.echo(f"backed up {_summary(copied)} to {file}")


@store_app.command("restore")
def restore_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A file written by `offboard store backup`.")],
    store: StoreOption = None,
) -> None:
    """Restore FILE into an empty store (a new SQLite file or an empty PostgreSQL database).

    A backup from an older offboard is upgraded on a temporary copy; the file is never
    changed. Stop the daemon while restoring.

    Example: offboard store restore /var/backups/offboard-2026-12-01.sqlite3
    """
    from offboard.store.backup import restore

    with _engine(ctx, store) as engine:
        copied = restore(engine, file)
    typer.echo(f"restored {_summary(copied)} from {file}")


def _summary(copied: Copied) -> str:
    tables = ", ".join(f"{name} {count}" for name, count in copied.rows.items() if count)
    return f"{copied.total} rows ({tables or 'no rows'})"


def register(app: typer.Typer) -> None:
    """Add the `store` group to the root app."""
    app.add_typer(store_app, name="store")
