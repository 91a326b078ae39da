"""Issue 19.7: hostile usernames and emails from Keycloak, through plan, apply and journal.

No terminal control character reaches any output (table, markdown, JSON, journal), no CSV
cell starts a formula, and an email that is not an address is never matched, only shown.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from offboard.cli.demo import DIRECTORY, DOMAIN, atlassian_fixture, keycloak_seed
from offboard.cli.emulate import Which, ready_config, serving
from offboard.cli.exit_codes import ExitCode
from offboard.core.printable import CSV_TRIGGERS
from offboard.store import open_store
from tests.cli.test_run_commands import World
from tests.hostile.cli_env import clean_cli_env as clean_cli_env  # autouse
from tests.hostile.cli_env import config_secrets
from tests.hostile.conftest import HostileRow

ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x1b[31m"
# (username, email, whether the email is an address offboard may match)
HOSTILE: list[tuple[str, str, bool]] = [
    (f"eve{ESCAPES}", f"eve@{DOMAIN}", True),
    ("formula.eq", f"=1+1@{DOMAIN}", True),
    ("formula.plus", f"+cmd@{DOMAIN}", True),
    ("formula.minus", f"-2+3@{DOMAIN}", True),
    ("hyperlink", f'=HYPERLINK("http://evil.example")@{DOMAIN}', False),
    ("sum", f"@SUM(1+1)@{DOMAIN}", False),
    ("ansi.email", f"mal{ESCAPES}@{DOMAIN}", False),
    ("bidi.email", f"\u202eusr@{DOMAIN}", False),
    ("c1.email", f"\x9b31musr@{DOMAIN}", False),
    ("blank.email", f"two words@{DOMAIN}", False),
]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """The demo's named people plus the hostile ones, each with an Atlassian account whose
    email is the same string (so a careless match would pair them)."""
    realm, fixture = keycloak_seed(), atlassian_fixture()
    for n, (username, email, _) in enumerate(HOSTILE):
        realm["users"].append({"username": username, "email": email, "enabled": True})
        fixture["orgs"][0]["accounts"].append(
            {
                "account_id": f"hostile-{n:02d}",
                "email": email,
                "directories": {DIRECTORY: "active"},
            }
        )
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"keycloak": realm, "atlassian": fixture}), encoding="utf-8")
    with serving(Which.BOTH, port=0, seed_file=seed) as served:
        config, store = tmp_path / "offboard.toml", tmp_path / "state.sqlite3"
        text = ready_config(served.urls, (realm, fixture))
        config.write_text(text.replace("offboard-emulated.sqlite3", str(store)), encoding="utf-8")
        yield World(served, config, store)


def _controls(text: str) -> int:
    """Characters that steer a terminal: C0 but newline, DEL, C1, bidi and zero-width."""
    return sum(c != "\n" and unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in text)


def _linked_accounts(path: Path) -> set[str]:
    store = open_store(path)
    try:
        return {link.account_id for link in store.links()}
    finally:
        store.close()


@pytest.mark.slow
def test_hostile_keycloak_values_are_shown_safely_and_never_matched(
    world: World, runner: CliRunner, hostile_row: HostileRow
) -> None:
    outputs: list[str] = []

    def run(*args: str) -> tuple[int, str]:
        code, output = world.run(runner, *args)
        outputs.append(output)
        return code, output

    for fmt in ("table", "markdown", "json"):
        code, output = run("plan", "--format", fmt)
        assert code == ExitCode.OK, output  # links to record only: bookkeeping, exit 0
    assert "email-not-an-address" in output
    code, output = run("apply", "--yes")
    assert code == ExitCode.OK, output

    unmatchable = {f"hostile-{n:02d}" for n, (_, _, ok) in enumerate(HOSTILE) if not ok}
    matchable = {f"hostile-{n:02d}" for n, (_, _, ok) in enumerate(HOSTILE) if ok}
    linked = _linked_accounts(world.store)
    wrongful = len(linked & unmatchable)
    assert matchable <= linked

    for username, _, ok in HOSTILE:
        if ok:
            world.disable(username)
    code, output = run("apply", "--yes")
    assert code == ExitCode.OK, output
    lost = sum(world.account_status(email) != "inactive" for _, email, ok in HOSTILE if ok)
    wrongful += sum(world.account_status(email) != "active" for _, email, ok in HOSTILE if not ok)
    for args in (["list", "--limit", "0"], ["list", "--format", "jsonl"], ["runs"]):
        run("journal", *args, "--store", str(world.store))
    code, exported = run("journal", "export", "--format", "csv", "--store", str(world.store))
    assert code == ExitCode.OK
    cells = [cell for row in csv.reader(io.StringIO(exported)) for cell in row]
    formulas = sum(cell.startswith(CSV_TRIGGERS) for cell in cells)
    assert f"'=1+1@{DOMAIN}" in cells

    _, jsonl = run("journal", "export", "--store", str(world.store))
    emails = {json.loads(line)["email"] for line in jsonl.splitlines()}
    assert f"=1+1@{DOMAIN}" in emails  # the JSON export keeps values exact (escaped)

    escaped = sum(_controls(output) for output in outputs)
    assert escaped == 0, [o for o in outputs if _controls(o)][:1]
    crashes = sum("unexpected error" in output for output in outputs)
    secrets = config_secrets(world.config)
    leaked = sum(any(s in output for s in secrets) for output in outputs)
    assert (wrongful, formulas, lost, crashes, leaked) == (0, 0, 0, 0, 0)
    hostile_row(
        area="hostile usernames and emails from Keycloak (CLI)",
        inputs=len(HOSTILE),
        wrongful_actions=wrongful + formulas + escaped,
        crashes=crashes,
        secrets_leaked=leaked,
        lost_actions=lost,
        note="escape sequences, C1 and bidi controls, CSV formulas, non-addresses; "
        f"{len(outputs)} outputs checked (plan table/markdown/json, apply, journal, csv)",
    )
