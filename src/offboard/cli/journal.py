"""`offboard journal list|show|export`: read the audit trail."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from offboard.cli.errors import FailedError
from offboard.cli.files import write_private
from offboard.cli.run_words import summary_words
from offboard.cli.state import state_of
from offboard.core.journal import JournalRecord, Phase, RunRecord, Status
from offboard.core.printable import csv_cell, json_safe, printable

if TYPE_CHECKING:
    from rich.console import Console, Group, RenderableType

    from offboard.store import SqlStore


journal_app = typer.Typer(
    help="Read the journal: every intent, attempt, outcome and read-back.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


class RunsFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
FIELDS = [
    "seq", "at", "run_id", "action_key", "phase", "status", "kind", "identity_id",
    "account_id", "email", "rule", "reason", "http_status", "detail",
]  # fmt: skip


class Format(StrEnum):
    TABLE = "table"
    JSONL = "jsonl"
    CSV = "csv"


class ExportFormat(StrEnum):
    """What `journal export` writes: files for an auditor, not a table for the screen."""

    JSONL = "jsonl"
    CSV = "csv"


StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        metavar="<url|path>",
        help="Read this store instead of the configured one: a database URL "
        "(postgresql://…) or a SQLite file, which must exist. Opened read-only.",
    ),
]
RunOption = Annotated[str | None, typer.Option("--run", help="Only this run id.")]
UserOption = Annotated[
    str | None, typer.Option("--user", help="Only this person: Keycloak id, email or account id.")
]
SinceOption = Annotated[
    str | None,
    typer.Option(help="Only records since: a duration back (2h, 7d) or an ISO date/time."),
]


def parse_since(text: str | None, now: datetime) -> datetime | None:
    """``2h``/``7d`` back from now, or an ISO 8601 date or time (UTC when no zone is given)."""
    from offboard.settings import parse_duration

    if text is None:
        return None
    try:
        duration = parse_duration(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--since'") from None
    if isinstance(duration, timedelta):
        return now - duration
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is neither a duration (2h, 7d) nor an ISO date", param_hint="'--since'"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@contextmanager
def _open(ctx: typer.Context, override: str | None) -> Iterator[SqlStore]:
    """The store, read-only: the journal commands never create, migrate or write one."""
    from offboard.cli.wiring import open_configured_store

    settings = None if override is not None else state_of(ctx).settings()
    store = open_configured_store(settings, override, read_only=True)
    try:
        yield store
    finally:
        store.close()


SHOWN_MATCHES = 10
"""Runs matching a prefix that ``show`` counts before saying "more than"."""


def select_records(
    store: SqlStore, *, run: str | None, user: str | None, since: datetime | None
) -> list[JournalRecord]:
    """Journal records matching the filters, oldest first."""
    by_id = user if user and _UUID.fullmatch(user) else None
    records = store.journal(run_id=run, identity_id=by_id, since=since)
    if user and by_id is None:
        wanted = user.strip().lower()
        records = [r for r in records if wanted in {(r.email or "").lower(), r.account_id}]
    return records


def record_dict(record: JournalRecord) -> dict[str, Any]:
    """A record as plain JSON-ready values."""
    data = asdict(record)
    data["at"] = record.at.isoformat()
    data["phase"], data["status"] = record.phase.value, record.status.value
    return {key: data[key] for key in FIELDS}


def records_text(records: list[JournalRecord], fmt: Format) -> str:
    """The records as JSON lines (every value exact, invisible characters escaped) or CSV
    (printable, and no cell a spreadsheet would run as a formula)."""
    if fmt is Format.JSONL:
        return "".join(
            json_safe(json.dumps(record_dict(r), ensure_ascii=False)) + "\n" for r in records
        )
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(_csv_row(record_dict(r)) for r in records)
    return buffer.getvalue()


def _csv_row(row: dict[str, Any]) -> dict[str, Any]:
    return {key: csv_cell(value) if isinstance(value, str) else value for key, value in row.items()}


def write_records(records: list[JournalRecord], fmt: Format, console: Console) -> None:
    """Print the records as a table, JSON lines or CSV."""
    if fmt is Format.TABLE:
        console.print(journal_table(records, width=console.width))
    else:
        typer.echo(records_text(records, fmt), nl=False)


_GOOD = frozenset({Status.SUCCEEDED, Status.VERIFIED, Status.PENDING, Status.INFO})
WIDE_TERMINAL = 160
"""From this width on, every column fits without wrapping a word per line."""


def journal_table(records: list[JournalRecord], width: int = 80) -> RenderableType:
    """The records for a terminal: a table when it is wide, one line per record otherwise.

    ``--format jsonl|csv`` always has every field in full.
    """
    from rich.table import Table

    if width < WIDE_TERMINAL:
        return _journal_lines(records)
    table = Table(show_lines=False, title=f"{len(records)} journal records")
    for column in ("seq", "at (UTC)", "run", "phase", "status", "kind", "who", "rule", "detail"):
        table.add_column(column, overflow="fold")
    for r in records:
        table.add_row(
            str(r.seq or ""),
            r.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            r.run_id[:8],
            r.phase.value,
            r.status.value,
            printable(r.kind),
            _who(r),
            printable(r.rule),
            printable(r.detail or r.reason),
        )
    return table


def _journal_lines(records: list[JournalRecord]) -> Group:
    """``seq time phase status kind who: detail``, one record a line, for narrow terminals."""
    from rich.console import Group
    from rich.text import Text

    lines = [Text(f"{len(records)} journal records", style="bold")]
    for r in records:
        head = f"{r.seq or '':>5} {r.at.astimezone(UTC):%H:%M:%S} {r.phase.value:<9} "
        lines.append(
            Text.assemble(
                head,
                (f"{r.status.value:<10}", "green" if r.status in _GOOD else "red"),
                printable(f"{r.kind:<16} {_who(r)}: {_detail(r)}"),
            )
        )
    return Group(*lines)


def _who(record: JournalRecord) -> str:
    return printable(record.email or record.account_id or record.identity_id or "")


def _detail(record: JournalRecord) -> str:
    """An intent's detail is the whole reason; one line shows the rule that names it."""
    if record.phase is Phase.INTENT:
        return record.rule
    return record.detail or record.reason


@journal_app.command("list")
def list_records(
    ctx: typer.Context,
    run: RunOption = None,
    user: UserOption = None,
    since: SinceOption = None,
    limit: Annotated[
        int, typer.Option(min=1, help="Show at most the last N records (1 or more).")
    ] = 50,
    fmt: Annotated[Format, typer.Option("--format", help="table, jsonl or csv.")] = Format.TABLE,
    store: StoreOption = None,
) -> None:
    """List journal records, newest last.

    Examples: offboard journal list --since 1d; offboard journal list --user ada@example.com
    """
    from offboard.cli.fitting import output_console

    with _open(ctx, store) as opened:
        moment = parse_since(since, datetime.now(UTC))
        records = select_records(opened, run=run, user=user, since=moment)
        write_records(records[-limit:], fmt, output_console())


@journal_app.command("show")
def show(
    ctx: typer.Context,
    run: Annotated[str, typer.Argument(help="A run id (a unique prefix is enough).")],
    fmt: Annotated[Format, typer.Option("--format", help="table, jsonl or csv.")] = Format.TABLE,
    store: StoreOption = None,
) -> None:
    """Show one run: when and how it ended, and every record it journaled.

    Example: offboard journal show 3f2a9c1e
    """
    from offboard.cli.fitting import output_console

    with _open(ctx, store) as opened:
        matches = opened.runs_starting(run, limit=SHOWN_MATCHES + 1)
        if len(matches) != 1:
            found = "no run" if not matches else f"{len(matches)} runs"
            if len(matches) > SHOWN_MATCHES:
                found = f"more than {SHOWN_MATCHES} runs"
            raise FailedError(
                f"{found} with an id starting {run!r}; `offboard journal runs` lists them"
            )
        record = matches[0]
        console = output_console()
        if fmt is Format.TABLE:
            ended = record.finished_at.isoformat() if record.finished_at else "not finished"
            console.print(f"run {record.id} ({record.kind}): {record.status}", markup=False)
            console.print(f"started {record.started_at.isoformat()}, ended {ended}", markup=False)
            if record.summary:
                console.print(summary_words(record.summary), markup=False)
        write_records(opened.journal(run_id=record.id), fmt, console)


@journal_app.command("runs")
def runs(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option(min=1, help="At most this many, newest first (1 or more).")
    ] = 20,
    store: StoreOption = None,
    fmt: Annotated[
        RunsFormat,
        typer.Option("--format", help="table (in words) or json (the stored summary)."),
    ] = RunsFormat.TABLE,
) -> None:
    """List recent runs (plan, apply, reconcile, re-check) with their status.

    Example: offboard journal runs --limit 5
    """
    from offboard.cli.fitting import fitted_table, output_console

    with _open(ctx, store) as opened:
        found = opened.runs(limit=limit)
    if fmt is RunsFormat.JSON:
        typer.echo(json.dumps([_run_dict(r) for r in found], indent=2, default=str))
        return
    console = output_console()
    rows = [
        {
            "run": r.id,
            "kind": r.kind,
            "started (UTC)": r.started_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
            "status": r.status,
            "what happened": summary_words(r.summary),
        }
        for r in found
    ]
    headers = ("run", "kind", "started (UTC)", "status", "what happened")
    keep = ("run", "kind", "status", "what happened")
    console.print(fitted_table("runs, newest first", rows, console.width, keep=keep,
                               headers=headers))  # fmt: skip


def _run_dict(run: RunRecord) -> dict[str, object]:
    return {"id": run.id, "kind": run.kind, "started_at": run.started_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "status": run.status, "summary": run.summary}  # fmt: skip


@journal_app.command("export")
def export(
    ctx: typer.Context,
    fmt: Annotated[
        ExportFormat, typer.Option("--format", help="jsonl or csv.")
    ] = ExportFormat.JSONL,
    out: Annotated[Path | None, typer.Option(help="Write to this file, not stdout.")] = None,
    run: RunOption = None,
    user: UserOption = None,
    since: SinceOption = None,
    store: StoreOption = None,
) -> None:
    """Export journal records for an auditor, as JSON lines (default) or CSV.

    Example: offboard journal export --since 30d --format csv --out journal.csv
    """
    written = Format(fmt.value)
    with _open(ctx, store) as opened:
        records = select_records(
            opened, run=run, user=user, since=parse_since(since, datetime.now(UTC))
        )
        if out is None:
            typer.echo(records_text(records, written), nl=False)
            return
        write_private(out, records_text(records, written))
        typer.echo(f"wrote {len(records)} records to {out}", err=True)


def register(app: typer.Typer) -> None:
    """Add the `journal` group to the root app."""
    app.add_typer(journal_app, name="journal")
