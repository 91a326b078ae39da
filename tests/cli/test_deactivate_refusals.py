"""`deactivate`/`reactivate` that do nothing say why with exit 5, unless it is already done:
a script's `offboard deactivate X --yes && echo done` is never misled."""

from __future__ import annotations

from typer.testing import CliRunner

from offboard.cli.demo import DOMAIN, person
from offboard.cli.exit_codes import ExitCode
from tests.cli.test_run_commands import World, linked, world

__all__ = ["linked", "world"]  # fixtures used below


def test_a_protected_leaver_is_refused_without_pointing_at_cutoff(
    linked: World, runner: CliRunner
) -> None:
    email = f"it-admin@{DOMAIN}"  # an org admin
    linked.disable("it-admin")
    code, output = linked.run(runner, "deactivate", email, "--yes")
    words = " ".join(output.split())
    assert code == ExitCode.REFUSED, output
    assert "protected-org-admin" in words
    assert "offboard cutoff now USER" not in words  # it would refuse too
    assert "protected" in words
    code, _ = linked.run(runner, "cutoff", "now", email, "--reason", "x", "--yes")
    assert code == ExitCode.REFUSED
    assert linked.account_status(email) == "active"


def test_an_unknown_email_is_refused_like_cutoff_now(linked: World, runner: CliRunner) -> None:
    email = f"nobody@{DOMAIN}"
    deactivated, output = linked.run(runner, "deactivate", email, "--yes")
    assert deactivated == ExitCode.REFUSED, output
    assert f"no Keycloak user in scope has the email {email}" in output
    cut_off, _ = linked.run(runner, "cutoff", "now", email, "--reason", "x", "--yes")
    assert cut_off == deactivated


def test_deactivating_twice_is_done_not_refused(linked: World, runner: CliRunner) -> None:
    email = f"{person(19)}@{DOMAIN}"
    linked.disable(person(19))
    code, output = linked.run(runner, "deactivate", email, "--yes")
    assert code == ExitCode.OK, output
    code, output = linked.run(runner, "deactivate", email, "--yes")
    assert code == ExitCode.OK, output
    assert "already deactivated" in output


def test_a_person_still_enabled_is_refused_without_an_empty_table(
    linked: World, runner: CliRunner
) -> None:
    # QA: an empty table and "nothing to change in Atlassian" came before the refusal, which
    # alone says why.
    code, output = linked.run(runner, "deactivate", f"{person(21)}@{DOMAIN}", "--yes")
    assert code == ExitCode.REFUSED, output
    assert "nothing to deactivate: Keycloak shows nothing that calls for it" in output
    assert "status" not in output
    assert "nothing to change in Atlassian" not in output
