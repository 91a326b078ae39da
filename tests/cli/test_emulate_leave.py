"""Trying offboard needs no code: `emulate` says how to make someone leave, and it works."""

from __future__ import annotations

import subprocess
import sys
import time

from typer.testing import CliRunner

from offboard.cli.demo import DOMAIN, person
from offboard.cli.exit_codes import ExitCode
from tests.cli.test_run_commands import World, linked, world

__all__ = ["linked", "world"]  # fixtures used below


def test_a_leaver_made_by_the_printed_command_is_deactivated_by_plan_and_apply(
    linked: World, runner: CliRunner
) -> None:
    email = f"{person(6)}@{DOMAIN}"
    code, output = linked.run(runner, "emulate-leave", email)
    assert code == ExitCode.OK, output
    assert "disabled" in output
    code, output = linked.run(runner, "plan")
    assert code == ExitCode.CHANGES, output
    assert email in output
    code, output = linked.run(runner, "apply", "--yes")
    assert code == ExitCode.OK, output
    assert linked.account_status(email) == "inactive"
    code, output = linked.run(runner, "emulate-leave", email, "--back")
    assert code == ExitCode.OK, output
    assert linked.keycloak_user(person(6)).enabled  # type: ignore[attr-defined]


def test_a_leaver_offboard_never_saw_is_explained_with_what_to_run_first(
    world: World, runner: CliRunner
) -> None:
    """On a store that has not linked them, their leave is day-one backlog: reported, not
    acted on. emulate-leave says so, and how to see the main job instead."""
    email = f"{person(6)}@{DOMAIN}"
    code, output = world.run(runner, "emulate-leave", email)
    assert code == ExitCode.OK, output
    assert "offboard has not linked" in output
    assert "offboard apply --yes" in output
    assert "--adopt-backlog" in output
    code, output = world.run(runner, "emulate-leave", email, "--back")
    assert code == ExitCode.OK, output
    assert "offboard has not linked" not in output  # enabling someone again needs no note


def test_a_linked_leaver_gets_no_note(linked: World, runner: CliRunner) -> None:
    code, output = linked.run(runner, "emulate-leave", f"{person(7)}@{DOMAIN}")
    assert code == ExitCode.OK, output
    assert "offboard has not linked" not in output


def test_emulate_leave_refuses_a_real_keycloak(config_file: object, runner: CliRunner) -> None:
    from offboard.cli.main import app

    result = runner.invoke(app, ["--config", str(config_file), "emulate-leave", "a@b.example"])
    assert result.exit_code == ExitCode.ERROR
    assert "not the local emulator" in result.output


def test_emulate_prints_how_to_make_someone_leave() -> None:
    command = [sys.executable, "-m", "offboard", "emulate", "both", "--port", "0"]
    lines: list[str] = []
    with subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stderr is not None
        deadline = time.monotonic() + 60
        try:
            while time.monotonic() < deadline:
                line = process.stderr.readline()
                lines.append(line)
                if "serving" in line or not line:
                    break
        finally:
            process.terminate()
            process.communicate(timeout=30)
    text = "".join(lines)
    assert "emulate-leave person-000003@acme.example" in text
    first, leave = text.index("apply --yes"), text.index("emulate-leave person-000003")
    assert first < leave  # links first: a leave offboard never saw is only reported
    assert "emulator-admin-secret" in text


def test_back_and_delete_together_are_refused_before_anything_changes(runner: CliRunner) -> None:
    # QA: `--back --delete` deleted the person, ignoring --back without a word.
    from offboard.cli.main import app

    result = runner.invoke(app, ["emulate-leave", "someone@example.com", "--back", "--delete"])
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "pass one of --back and --delete" in result.output
