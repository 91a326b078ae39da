"""`offboard store migrate|backup|restore|sizes|prune`: look after the state store itself.

Upgrading the schema is an explicit step (``store.auto_migrate`` is off by default): back up,
migrate once (a Helm hook Job, or by hand), then roll out the new version. ``--check`` only
reads, so a deploy pipeline can stop when a migration is pending. ``sizes`` and ``prune``
show and forget on demand what the daemon's retention forgets (``store.retention``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from offboard.cli.exit_codes import ExitCode
from offboard.cli.state import state_of

KEEP_NEWEST_RUNS = 100
"""``offboard.store.retention.KEEP_NEWEST_RUNS`` (not imported: the CLI starts without the
store's modules)."""

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from offboard.store import SqlStore
    from offboard.store.backup import Copied
    from offboard.store.migrating import MigrationState
    from offboard.store.retention import Pruned


store_app = typer.Typer(
    help="Migrate, back up, restore, measure and prune the state store (SQLite or PostgreSQL).",
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


@contextmanager
def _opened(ctx: typer.Context, override: str | None, *, read_only: bool) -> Iterator[SqlStore]:
    """An existing, current store (``sizes`` and ``prune`` create and migrate none)."""
    from offboard.cli.wiring import open_configured_store

    settings = None if override is not None else state_of(ctx).settings()
    opened = open_configured_store(settings, override, read_only=True)
    if not read_only:
        opened.close()
        opened = open_configured_store(settings, override)
    try:
        yield opened
    finally:
        opened.close()


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


@store_app.command("sizes")
def sizes_command(ctx: typer.Context, store: StoreOption = None) -> None:
    """Show each table's rows and bytes on disk (where the backend tells), largest first.

    Example: offboard store sizes
    """
    from offboard.store.sizes import table_sizes

    with _opened(ctx, store, read_only=True) as opened:
        found = sorted(table_sizes(opened.engine), key=lambda t: (-(t.bytes or 0), -t.rows, t.name))
    width = max(len(t.name) for t in found)
    for table in found:
        typer.echo(f"{table.name:<{width}}  {table.rows:>12,}  {_size(table.bytes):>10}")
    known = [t.bytes for t in found if t.bytes is not None]
    total = _size(sum(known)) if known else _size(None)
    typer.echo(f"{'total':<{width}}  {sum(t.rows for t in found):>12,}  {total:>10}")


def _size(count: int | None) -> str:
    if count is None:
        return "?"
    for unit in ("B", "KiB", "MiB"):
        if count < 1024:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024  # type: ignore[assignment]
    return f"{count:.1f} GiB"


@store_app.command("prune")
def prune_command(
    ctx: typer.Context,
    older_than: Annotated[
        str | None,
        typer.Option(
            "--older-than",
            help="Forget what is older than this (7d, 12w); default store.retention (30d).",
        ),
    ] = None,
    keep_newest: Annotated[
        int, typer.Option(min=0, help="Runs kept however old, newest first.")
    ] = KEEP_NEWEST_RUNS,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count what would be forgotten.")
    ] = False,
    store: StoreOption = None,
) -> None:
    """Forget now what the daemon's retention forgets: old runs that journaled nothing
    (passes that changed nothing) with their plans, old snapshot summaries but the newest
    of each kind, settled operator requests, ended console sessions.

    The journal and every run that journaled something are never forgotten. Safe while the
    daemon runs (each batch is a short transaction). SQLite reuses the freed pages; to give
    them back to the file system, stop the daemon and run VACUUM on the file.

    Example: offboard store prune --dry-run
    """
    from offboard.store.retention import prune

    keep = _retention(ctx, older_than)
    now = datetime.now(UTC)
    with _opened(ctx, store, read_only=dry_run) as opened:
        pruned = prune(opened.engine, now - keep, now, keep_newest=keep_newest, dry_run=dry_run)
    typer.echo(_pruned_words(pruned, keep, dry_run=dry_run))


def _retention(ctx: typer.Context, older_than: str | None) -> timedelta:
    from offboard.settings import parse_duration
    from offboard.settings.runtime import MIN_RETENTION

    if older_than is None:
        keep = state_of(ctx).settings().store.retention
        if keep <= timedelta(0):
            raise typer.BadParameter(
                "store.retention is 0s (keep everything): say how old with --older-than",
                param_hint="'--older-than'",
            )
        return keep
    try:
        parsed = parse_duration(older_than)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--older-than'") from None
    if not isinstance(parsed, timedelta) or parsed < MIN_RETENTION:
        raise typer.BadParameter(
            f"{older_than!r}: a duration of at least 1d (a pass may still be running)",
            param_hint="'--older-than'",
        )
    return parsed


def _pruned_words(pruned: Pruned, keep: timedelta, *, dry_run: bool) -> str:
    from offboard.cli.config_docs import format_duration

    age = f"older than {format_duration(keep)}"
    if not pruned:
        return f"nothing to forget {age}; the journal is kept whole"
    parts = [
        f"{pruned.runs:,} runs that journaled nothing (and {pruned.plans:,} plans)",
        f"{pruned.snapshots:,} snapshot summaries",
        f"{pruned.requests:,} settled operator requests",
        f"{pruned.sessions:,} ended console sessions",
    ]
    verb = "would forget" if dry_run else "forgot"
    return f"{verb} {', '.join(parts)} ({age}); the journal is kept whole"


def _summary(copied: Copied) -> str:
    tables = ", ".join(f"{name} {count}" for name, count in copied.rows.items() if count)
    return f"{copied.total} rows ({tables or 'no rows'})"


def register(app: typer.Typer) -> None:
    """Add the `store` group to the root app."""
    app.add_typer(store_app, name="store")
