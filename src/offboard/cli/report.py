"""`offboard report licences|history`: seats nobody should hold, and what they cost."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from offboard.cli.errors import FailedError
from offboard.cli.state import state_of
from offboard.core.licence_rendering import (
    PRODUCT_HEADER,
    product_rows,
    to_csv,
    to_html,
    to_json,
    trend_of,
)
from offboard.core.licences import HISTOGRAM_BUCKETS, NEVER, LicenceReport, ReportOptions
from offboard.ports import AccountDirectory, UsageDirectory

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from offboard.cli.flows import Wired


report_app = typer.Typer(
    help="Reports: seats held by leavers, inactive people, orphans and unlinked SCIM records.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


class ReportFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    HTML = "html"


def usage_of(directory: AccountDirectory) -> UsageDirectory:
    """The use-and-billing reads of the Atlassian adapter (same org, key and limiter)."""
    from offboard.adapters.atlassian import AtlassianDirectory
    from offboard.adapters.atlassian_org.usage import UsageReader

    if not isinstance(directory, AtlassianDirectory):
        raise FailedError("the licence report needs the Atlassian Organizations API adapter")
    return UsageReader(directory.org)


@contextmanager
def whole_reads() -> Iterator[None]:
    """A licence read that found a vendor unreadable exits 7, as ``plan`` does; one that
    stopped part-way, or was refused, exits 1 with the first problem."""
    from offboard.cli.flows import raise_if_unread
    from offboard.service.licence_check import ReportUnsafeError

    try:
        yield
    except ReportUnsafeError as error:
        raise_if_unread(error.source, error.target)
        raise


async def licence_report(
    wired: Wired,
    options: ReportOptions,
    *,
    record: bool = False,
    console: Console | None = None,
) -> LicenceReport:
    """One check over a wired set of adapters; kept in the history when ``record``. While
    ``console`` (standard error by default) is a terminal, a bar per read shows how far it
    got: a large org's check takes minutes, and the report itself may go to a pipe."""
    from offboard.cli.fitting import plain_console
    from offboard.cli.flows import side_bars
    from offboard.service.licence_check import PHASES, run_licence_check

    with side_bars(console or plain_console(stderr=True), PHASES) as progress:
        return await run_licence_check(
            wired.source,
            wired.directory,
            usage_of(wired.directory),
            wired.store,
            wired.store if record else None,
            options,
            wired.clock,
            progress=progress,
        )


TREND_CHECKS = 90


HEADER_WORDS = {"unlinked_scim": "unlinked\nSCIM", "reclaimable": "reclaim-\nable",
                "monthly cost": "monthly\ncost"}  # fmt: skip
"""Two-line headers: with every product name whole, the table fits 80 columns."""


def report_table(report: LicenceReport) -> Table:
    """Seats per product and state. Product names are never cut: jira-software and
    jira-service-desk would both read 'jira-s…'."""
    from rich import box
    from rich.table import Table

    table = Table(
        title=f"Seats by product (inactive: {report.options.inactive_days}+ days)",
        box=box.SIMPLE_HEAD,
        padding=(0, 0),
        show_edge=False,
        pad_edge=False,
    )
    rows = product_rows(report)
    for index, column in enumerate(PRODUCT_HEADER):
        header = HEADER_WORDS.get(column, column)
        cells = [len(row[index]) for row in rows]  # figures are never cut either
        table.add_column(
            header,
            justify="left" if column == "product" else "right",
            no_wrap=True,
            min_width=max([*cells, *(len(line) for line in header.splitlines())]),
        )
    for row in rows:
        table.add_row(*row)
    return table


def render(
    report: LicenceReport, fmt: ReportFormat, trend: Sequence[tuple[datetime, int]] = ()
) -> str:
    """The report as text in one of the file formats (HTML with the trend, when given)."""
    if fmt is ReportFormat.CSV:
        return to_csv(report)
    if fmt is ReportFormat.HTML:
        return to_html(report, trend)
    return to_json(report) + "\n"


def show(report: LicenceReport, console: Console) -> None:
    console.print(report_table(report))
    buckets = [name for name, _ in HISTOGRAM_BUCKETS] + [NEVER]
    spread = ", ".join(f"{name}: {report.histogram.get(name, 0)}" for name in buckets)
    console.print(f"accounts by days since last use: {spread}", markup=False)
    cost = f"{report.reclaimable_cost():.2f} {report.options.currency}"
    unpriced = report.unpriced_products()
    if unpriced and not report.options.prices:
        cost = "not priced (set [licences] prices)"
    elif unpriced:
        cost += f", without {', '.join(unpriced)} (no price: set [licences] prices)"
    console.print(
        f"reclaimable seats: {report.reclaimable_seats}; monthly cost: {cost}", markup=False
    )


def licences(
    ctx: typer.Context,
    fmt: Annotated[
        ReportFormat, typer.Option("--format", help="table (default), csv, json or html.")
    ] = ReportFormat.TABLE,
    out: Annotated[Path | None, typer.Option(help="Write to this file instead.")] = None,
    inactive_days: Annotated[
        int | None, typer.Option(min=1, help="Inactive after N days (licences.inactive_days).")
    ] = None,
    record: Annotated[
        bool, typer.Option("--record/--no-record", help="Keep the figures in the history.")
    ] = False,
) -> None:
    """Seats held by leavers, inactive people, orphans and unlinked SCIM records.

    Reads Keycloak, Atlassian and Atlassian's use data; changes nothing. Prices per seat
    come from [licences] prices. Examples: offboard report licences; offboard report
    licences --format html --out seats.html; offboard report licences --inactive-days 60
    """
    from offboard.cli.fitting import plain_console
    from offboard.cli.licence_wiring import licence_config
    from offboard.cli.wiring import connect

    settings = state_of(ctx).settings()

    async def go() -> tuple[LicenceReport, list[tuple[datetime, int]]]:
        async with connect(settings) as wired:
            with whole_reads():
                made = await licence_report(
                    wired, licence_config(settings, inactive_days).options, record=record
                )
            return made, trend_of(wired.store.licence_reports(TREND_CHECKS))

    made, trend = asyncio.run(go())
    if fmt is ReportFormat.TABLE and out is None:
        show(made, plain_console())
        return
    text = render(made, ReportFormat.JSON if fmt is ReportFormat.TABLE else fmt, trend)
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise FailedError(f"cannot write the report to {out}: {exc.strerror}") from None


def history(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, help="How many checks, newest first.")] = 30,
) -> None:
    """The trend: reclaimable seats and monthly cost of the last checks."""
    from rich.table import Table

    from offboard.cli.fitting import plain_console
    from offboard.cli.wiring import open_configured_store

    store = open_configured_store(state_of(ctx).settings())
    try:
        rows = store.licence_reports(limit)
    finally:
        store.close()
    table = Table(title="Licence checks")
    for column in ("taken at", "accounts", "reclaimable seats", "monthly cost"):
        table.add_column(column, justify="left" if column == "taken at" else "right")
    for taken_at, figures in rows:
        cost = f"{figures.get('reclaimable_monthly_cost', 0)} {figures.get('currency', '')}"
        table.add_row(
            taken_at.isoformat(timespec="minutes"),
            str(figures.get("accounts", "")),
            str(figures.get("reclaimable_seats", "")),
            cost.strip(),
        )
    plain_console().print(table)


def register(app: typer.Typer) -> None:
    """Add the `report` group to the root app."""
    report_app.command("licences")(licences)
    report_app.command("history")(history)
    app.add_typer(report_app, name="report")
