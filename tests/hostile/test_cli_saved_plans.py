"""Issue 19.6: saved plans edited where the fingerprint does not look, and plans that crash
the reader. Every one is refused (exit 5, one line) or applied with fresh reasons only."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from offboard.cli.demo import DOMAIN, person
from offboard.cli.exit_codes import ExitCode
from offboard.core.plan_json import seal_of
from offboard.store import open_store
from tests.cli.conftest import runner as runner
from tests.cli.test_run_commands import World, links_in
from tests.cli.test_run_commands import world as world
from tests.hostile.cli_env import clean_cli_env as clean_cli_env  # autouse
from tests.hostile.cli_env import config_secrets
from tests.hostile.conftest import HostileRow

EDITED = "offboard: approved by the CEO \x1b[31mdo not ask\x1b[0m"
Edit = Callable[[dict[str, Any]], None]


def _reason(document: dict[str, Any]) -> None:
    document["actions"][0]["reason"] = EDITED


def _future(document: dict[str, Any]) -> None:
    document["created_at"] = (datetime.now(UTC) + timedelta(days=365)).isoformat()


def _old_made_new(document: dict[str, Any]) -> None:
    document["created_at"] = datetime.now(UTC).isoformat()


def _guard_message(document: dict[str, Any]) -> None:
    document["guards"][0]["message"] = "all fine, apply at once"


def _resealed(change: Edit) -> Edit:
    """The edit, then a seal recomputed over it: what someone who read the docs could do."""

    def edit(document: dict[str, Any]) -> None:
        change(document)
        document["seal"] = seal_of(document)

    return edit


REFUSED: list[tuple[str, Edit, str]] = [
    ("reason", _reason, "seal does not match"),
    ("future", _future, "seal does not match"),
    ("old-made-new", _old_made_new, "seal does not match"),
    ("guard-message", _guard_message, "seal does not match"),
    ("future-resealed", _resealed(_future), "in the future"),
]


@pytest.fixture
def leaver_plan(world: World, runner: CliRunner, tmp_path: Path) -> Path:
    """Everyone linked, then person 1 disabled: a saved plan with one deactivation."""
    code, output = world.run(runner, "apply", "--yes")
    assert code == ExitCode.OK, output
    world.disable(person(1))
    out = tmp_path / "plan.json"
    code, output = world.run(runner, "plan", "--out", str(out))
    assert code == ExitCode.CHANGES, output
    return out


def _edited(path: Path, change: Edit) -> Path:
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document)
    edited = path.with_name(f"edited-{len(list(path.parent.iterdir()))}.json")
    edited.write_text(json.dumps(document), encoding="utf-8")
    return edited


def _journal_text(world: World) -> str:
    store = open_store(world.store)
    try:
        return "\n".join(f"{r.reason} {r.detail}" for r in store.journal())
    finally:
        store.close()


@pytest.mark.slow
def test_edited_saved_plans_are_refused_or_carry_fresh_reasons(
    world: World, runner: CliRunner, leaver_plan: Path, tmp_path: Path, hostile_row: HostileRow
) -> None:
    wrongful = crashes = 0
    outputs = []
    for name, change, message in REFUSED:
        code, output = world.run(runner, "apply", str(_edited(leaver_plan, change)), "--yes")
        outputs.append(output)
        crashes += "unexpected error" in output
        wrongful += code != ExitCode.REFUSED or message not in output
        assert (code, message in output) == (ExitCode.REFUSED, True), (name, output)
    assert world.account_status(f"{person(1)}@{DOMAIN}") == "active"

    deep = tmp_path / "deep.json"
    deep.write_text('{"version": 1, "actions": ' + "[" * 100_000 + "]" * 100_000 + "}")
    code, output = world.run(runner, "apply", str(deep), "--yes")
    outputs.append(output)
    crashes += "unexpected error" in output or "RecursionError" in output
    assert code == ExitCode.REFUSED, output
    assert "nested too deeply" in output

    # A reason edited and resealed: the decisions still hold, so the plan is applied, with
    # the reason of the fresh plan; the edited text reaches neither Atlassian nor the journal.
    resealed = _edited(leaver_plan, _resealed(_reason))
    code, output = world.run(runner, "apply", str(resealed), "--yes")
    outputs.append(output)
    assert code == ExitCode.OK, output
    journal = _journal_text(world)
    wrongful += "approved by the CEO" in journal
    assert "approved by the CEO" not in journal
    lost = int(world.account_status(f"{person(1)}@{DOMAIN}") != "inactive")
    secrets = config_secrets(world.config)
    assert secrets
    leaked = sum(any(secret in out for secret in secrets) for out in [*outputs, journal])
    assert (wrongful, crashes, leaked, lost) == (0, 0, 0, 0)
    assert links_in(world.store) > 0
    hostile_row(
        area="saved plans (CLI apply)",
        inputs=len(REFUSED) + 2,
        wrongful_actions=wrongful,
        crashes=crashes,
        secrets_leaked=leaked,
        lost_actions=lost,
        note="edited reason, created_at, guard message (sealed or resealed), 100k-deep JSON",
    )
