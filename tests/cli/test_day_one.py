"""Day one: the backlog of people who left before offboard was watching, in every format."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from offboard.cli.demo import DOMAIN, person
from offboard.cli.exit_codes import ExitCode
from offboard.core.day_one import ADOPT_COMMAND
from offboard.store import open_store
from tests.cli.test_run_commands import World, world  # noqa: F401  (fixture)

GONE = (3, 7, 19)  # disabled in Keycloak before offboard ever ran


@pytest.fixture
def day_one(world: World) -> World:  # noqa: F811
    for n in GONE:
        world.disable(person(n))
    return world


@pytest.mark.parametrize("columns", ["80", "160"])
def test_the_first_plan_shows_the_backlog_and_the_command_at_any_width(
    day_one: World, runner: CliRunner, monkeypatch: pytest.MonkeyPatch, columns: str
) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    code, output = day_one.run(runner, "plan")
    assert code == ExitCode.OK, output  # nothing changes in Atlassian until adopted
    assert f"Day one: {len(GONE)} people left before offboard was watching" in " ".join(
        output.split()
    )
    assert f"\n  {ADOPT_COMMAND}\n" in output, "the command stands whole on its own line"
    assert "link    " not in output, "no row per link without --show-links"
    assert "new links" in output
    assert "nothing to change in Atlassian" in output


def _link_rows(text: str) -> int:
    return sum(1 for line in text.splitlines() if line.split()[:2] == ["planned", "link"])


def test_show_links_lists_the_bookkeeping(day_one: World, runner: CliRunner) -> None:
    _, summarised = day_one.run(runner, "plan", "--format", "text")
    _, listed = day_one.run(runner, "plan", "--format", "text", "--show-links")
    assert (
        _link_rows(listed)
        == json.loads(day_one.run(runner, "plan", "--format", "json")[1])["summary"]["day_one"][
            "new_links"
        ]
    )
    assert _link_rows(summarised) == 0
    assert "--show-links or --format json lists them" in summarised


@pytest.mark.parametrize("fmt", ["markdown", "text"])
def test_every_text_format_carries_the_backlog(day_one: World, runner: CliRunner, fmt: str) -> None:
    code, output = day_one.run(runner, "plan", "--format", fmt)
    assert code == ExitCode.OK, output
    assert f"{len(GONE)} people left before offboard was watching" in output
    assert ADOPT_COMMAND in output
    assert output.count("left-before-watching") == len(GONE)  # one skipped row each


def test_the_json_document_counts_the_backlog_and_keeps_every_link(
    day_one: World, runner: CliRunner
) -> None:
    code, output = day_one.run(runner, "plan", "--format", "json")
    assert code == ExitCode.OK
    document = json.loads(output)
    summary = document["summary"]["day_one"]
    assert summary["backlog"] == len(GONE)
    assert summary["adopt_command"] == ADOPT_COMMAND
    assert summary["new_links"] == document["summary"]["actions_by_kind"]["link"] > 20
    gone = {f"{person(n)}@{DOMAIN}" for n in GONE}
    backlog = [e for e in document["skipped"] if e["rule"] == "left-before-watching"]
    assert {e["email"] for e in backlog} == gone


def test_adoption_is_an_explicit_decision_under_the_guards_journaled_as_adoption(
    day_one: World, runner: CliRunner
) -> None:
    code, output = day_one.run(runner, "apply", "--yes")
    assert code == ExitCode.OK, output  # links recorded; the backlog left alone
    assert all(day_one.account_status(f"{person(n)}@{DOMAIN}") == "active" for n in GONE)
    text = day_one.config.read_text(encoding="utf-8")
    day_one.config.write_text(text + "\n[policy.thresholds]\nmax_deactivations = 2\n")
    code, output = day_one.run(runner, "apply", "--yes", "--adopt-backlog")
    assert code == ExitCode.BLOCKED, output  # 3 > 2: the same guard as any plan
    assert all(day_one.account_status(f"{person(n)}@{DOMAIN}") == "active" for n in GONE)
    code, output = day_one.run(
        runner, "apply", "--yes", "--adopt-backlog", "--override-guard", "max-deactivations"
    )
    assert code == ExitCode.OK, output
    assert all(day_one.account_status(f"{person(n)}@{DOMAIN}") == "inactive" for n in GONE)
    store = open_store(day_one.store)
    try:
        adopted = {
            r.email
            for r in store.journal()
            if r.rule == "adopted-leaver" and r.phase.value == "readback"
        }
        reasons = {r.reason for r in store.journal() if r.rule == "adopted-leaver"}
    finally:
        store.close()
    assert adopted == {f"{person(n)}@{DOMAIN}" for n in GONE}
    assert all("before offboard was watching" in reason for reason in reasons)
    code, output = day_one.run(runner, "plan")
    assert code == ExitCode.OK, output
    assert "Day one" not in output, "the backlog is gone once adopted"


def test_a_saved_plan_that_adopts_the_backlog_is_applied_as_saved(
    day_one: World, runner: CliRunner, tmp_path: object
) -> None:
    """The human decided when planning (`plan --adopt-backlog --out`): applying that file
    plans afresh with the same decision, rather than refusing it as a changed world."""
    code, output = day_one.run(runner, "apply", "--yes")  # links only
    assert code == ExitCode.OK, output
    saved = f"{tmp_path}/adopt.json"
    code, output = day_one.run(runner, "plan", "--adopt-backlog", "--out", saved)
    assert code == ExitCode.CHANGES, output
    code, output = day_one.run(runner, "apply", saved, "--yes")
    assert code == ExitCode.OK, output
    assert "adopts the day-one backlog" in output
    assert all(day_one.account_status(f"{person(n)}@{DOMAIN}") == "inactive" for n in GONE)
