"""A global option given after the command says where it goes (QA: `offboard plan --config
offboard.toml` answered only "No such option: --config", which a newcomer reads as a bug)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from offboard.cli.exit_codes import ExitCode
from offboard.cli.main import app


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["plan", "--config", "x.toml"],
            "--config is a global option: put it before the command, as in "
            "`offboard --config ... plan`",
        ),
        (
            ["journal", "list", "-c", "x.toml"],
            "-c is a global option: put it before the command, as in "
            "`offboard -c ... journal list`",
        ),
        (["apply", "--debug"], "`offboard --debug ... apply`"),
    ],
)
def test_a_global_option_after_the_command_says_where_it_goes(
    runner: CliRunner, args: list[str], expected: str
) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "No such option" in result.output
    assert expected in " ".join(result.output.split())


def test_an_unknown_option_gets_no_such_hint(runner: CliRunner) -> None:
    result = runner.invoke(app, ["plan", "--bogus"])
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "global option" not in result.output


def test_the_hint_knows_every_global_option() -> None:
    import typer.main

    from offboard.cli.group import GLOBAL_OPTIONS

    root = typer.main.get_command(app)
    names = {name for param in root.params for name in param.opts}
    assert names - {"--help", "-h", "--install-completion", "--show-completion"} == GLOBAL_OPTIONS


@pytest.mark.parametrize("args", [["plan", "--format", "bogus"], ["--log-level", "bogus", "plan"]])
def test_a_wrong_choice_reads_as_offboard_not_as_pydantic(
    runner: CliRunner, args: list[str]
) -> None:
    # QA: "Invalid value for '--format': Value error, 'bogus' is not one of ..." (the
    # validator's prefix, which says nothing to a user).
    result = runner.invoke(app, args)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "Value error" not in result.output
    assert "'bogus' is not one of" in result.output
