"""User and vendor text is printed as typed: no emoji codes, no rich markup applied to it."""

from __future__ import annotations

import io

from rich.table import Table
from typer.testing import CliRunner

from offboard.cli.exit_codes import ExitCode
from offboard.cli.fitting import output_console
from tests.cli.test_run_commands import World, linked, world

__all__ = ["linked", "world"]  # fixtures used below


def test_an_unknown_retry_key_is_quoted_as_typed(linked: World, runner: CliRunner) -> None:
    code, output = linked.run(runner, "retry", "deactivate:x:y", "--reason", "x")
    assert code == ExitCode.REFUSED, output
    assert "no outcome for deactivate:x:y" in output
    assert "\N{CROSS MARK}" not in output


def test_an_unknown_run_id_is_quoted_as_typed(linked: World, runner: CliRunner) -> None:
    _, output = linked.run(runner, "journal", "show", ":x:[/]")
    assert "':x:[/]'" in output
    _, output = linked.run(runner, "journal", "show", "[bold]run")
    assert "'[bold]run'" in output


def test_table_cells_from_vendors_stay_literal() -> None:
    out = io.StringIO()
    console = output_console(file=out, width=80)
    table = Table()
    table.add_column("email")
    table.add_row("[red]eve:x:@example.com")
    console.print(table)
    assert "[red]eve:x:@example.com" in out.getvalue()
