"""`offboard cutoff now|lift`: an operator cuts someone off whatever Keycloak says."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from offboard.cli.demo import DOMAIN, person
from offboard.cli.exit_codes import ExitCode
from offboard.cli.main import app
from offboard.core.plan import Rule
from offboard.store import open_store
from tests.cli.test_run_commands import World, linked, world

__all__ = ["linked", "world"]  # fixtures used below


def _store_facts(path: Path, email: str) -> tuple[bool, list[str]]:
    store = open_store(path)
    try:
        link = next(link for link in store.links() if link.email == email)
        notes = [f"{r.rule} {r.reason} {r.detail}" for r in store.journal(identity_id=None)]
        return link.cut_off_by_hand, notes
    finally:
        store.close()


def test_an_enabled_person_is_cut_off_journaled_and_never_given_back_by_the_planner(
    linked: World, runner: CliRunner
) -> None:
    email = f"{person(3)}@{DOMAIN}"
    linked.config.write_text(linked.config.read_text() + "\n[policy]\nreactivate = true\n")
    code, output = linked.run(
        runner, "cutoff", "now", email, "--reason", "left today, ticket 4411",
        "--actor", "alice", "--yes",
    )  # fmt: skip
    assert code == ExitCode.OK, output
    assert "Keycloak says" in output
    assert "enabled" in output
    assert "verified" in output  # the read-back
    assert linked.account_status(email) == "inactive"
    held, journal = _store_facts(linked.store, email)
    assert held
    assert any(
        Rule.MANUAL_CUTOFF in line and "alice" in line and "ticket 4411" in line for line in journal
    )
    # Keycloak still says enabled and reactivation is on: the planner must not give it back.
    code, output = linked.run(runner, "plan")
    assert code == ExitCode.OK, output
    assert "manual-cutoff-held" in output
    code, output = linked.run(runner, "reactivate", email, "--yes")
    assert linked.account_status(email) == "inactive"
    # A human lifts it.
    code, output = linked.run(
        runner, "cutoff", "lift", email, "--reason", "mistake", "--actor", "bob", "--yes"
    )
    assert code == ExitCode.OK, output
    assert linked.account_status(email) == "active"
    held, _ = _store_facts(linked.store, email)
    assert not held


def test_a_reason_is_mandatory(linked: World, runner: CliRunner) -> None:
    code, output = linked.run(runner, "cutoff", "now", f"{person(3)}@{DOMAIN}", "--yes")
    assert code == ExitCode.USAGE
    assert "--reason" in output
    code, output = linked.run(
        runner, "cutoff", "now", f"{person(3)}@{DOMAIN}", "--reason", "  ", "--yes"
    )
    assert code == ExitCode.USAGE
    assert linked.account_status(f"{person(3)}@{DOMAIN}") == "active"


def test_a_protected_principal_is_refused(linked: World, runner: CliRunner) -> None:
    email = f"it-admin@{DOMAIN}"  # an org admin
    code, output = linked.run(runner, "cutoff", "now", email, "--reason", "test", "--yes")
    assert code == ExitCode.REFUSED, output
    assert "protected-org-admin" in output
    assert linked.account_status(email) == "active"


def test_the_deprovisioning_guard_still_holds(linked: World, runner: CliRunner) -> None:
    email = f"{person(4)}@{DOMAIN}"
    linked.config.write_text(
        linked.config.read_text() + "\n[policy.thresholds]\nmax_deactivations = 0\n"
    )
    result = runner.invoke(
        app,
        ["--config", str(linked.config), "cutoff", "now", email, "--reason", "x", "--yes"],
    )
    assert result.exit_code == ExitCode.BLOCKED, result.output
    assert "max-deactivations" in result.stderr
    assert linked.account_status(email) == "active"


def test_without_a_terminal_it_asks_for_yes(linked: World, runner: CliRunner) -> None:
    code, output = linked.run(runner, "cutoff", "now", f"{person(4)}@{DOMAIN}", "--reason", "x")
    assert code == ExitCode.REFUSED
    assert "--yes" in output


def test_an_unknown_person_is_refused_with_the_reason(linked: World, runner: CliRunner) -> None:
    code, output = linked.run(runner, "cutoff", "now", f"nobody@{DOMAIN}", "--reason", "x", "--yes")
    assert code == ExitCode.REFUSED
    assert f"no account with the email nobody@{DOMAIN}" in output
