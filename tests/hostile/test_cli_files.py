"""Issue 19.9: files that hold everyone's email are the owner's alone, whatever the umask,
and a password inside a base URL is refused without ever being printed."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from offboard.cli.main import app
from offboard.cli.plan import save_plan
from offboard.store import open_store
from tests.cli.conftest import VALID_TOML
from tests.core.builders import identity, make_plan, people, source, target
from tests.hostile.cli_env import clean_cli_env as clean_cli_env  # autouse
from tests.hostile.conftest import HostileRow

PASSWORD = "Pa55wordInUrl"
UMASKS = (0o022, 0o002, 0o000)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def umask() -> Iterator[list[int]]:
    previous = os.umask(0o022)
    yield list(UMASKS)
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_state_store_plan_and_export_files_are_private(
    runner: CliRunner, tmp_path: Path, umask: list[int], hostile_row: HostileRow
) -> None:
    identities, accounts, links = people(1, 2)
    identities[0] = identity(1, disabled=True)
    plan = make_plan(source(*identities), target(*accounts), links)
    exposed = 0
    for mask in umask:
        os.umask(mask)
        folder = tmp_path / f"umask-{mask:03o}"
        state = folder / "state" / "offboard"
        open_store(state / "offboard.sqlite3").close()
        plan_file, export = folder / "plan.json", folder / "journal.csv"
        save_plan(plan, plan_file)
        export.write_text("an older, world-readable export\n")
        export.chmod(0o644)
        result = runner.invoke(
            app,
            ["journal", "export", "--store", str(state / "offboard.sqlite3"), "--format", "csv",
             "--out", str(export)],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        modes = {
            "state folder": _mode(state),
            "its parent": _mode(state.parent),
            "store": _mode(state / "offboard.sqlite3"),
            "plan": _mode(plan_file),
            "export": _mode(export),
        }
        wanted = {"state folder": 0o700, "its parent": 0o700, "store": 0o600}
        wanted |= {"plan": 0o600, "export": 0o600}
        exposed += sum(modes[k] != wanted[k] for k in wanted)
        assert modes == wanted, (oct(mask), {k: oct(v) for k, v in modes.items()})
    assert exposed == 0
    hostile_row(
        area="file modes (store, state folder, plan, export)",
        inputs=len(UMASKS) * 5,
        wrongful_actions=exposed,
        crashes=0,
        secrets_leaked=0,
        lost_actions=0,
        note="umask 022, 002 and 000; an existing 0644 export written over",
    )


URLS = {
    "keycloak file": ("keycloak", f"https://admin:{PASSWORD}@sso.example.com"),
    "keycloak user only": ("keycloak", f"https://{PASSWORD}@sso.example.com"),
    "keycloak no scheme": ("keycloak", f"admin:{PASSWORD}@sso.example.com"),
    "atlassian file": ("atlassian", f"https://admin:{PASSWORD}@api.atlassian.com"),
}


@pytest.mark.parametrize("where", ["file", "environment"])
def test_a_password_in_a_base_url_is_refused_unprinted(
    runner: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    hostile_row: HostileRow,
) -> None:
    monkeypatch.setenv("OFFBOARD_KEYCLOAK__CLIENT_SECRET", "kc-secret-value")
    monkeypatch.setenv("OFFBOARD_ATLASSIAN__API_KEY", "atl-key-value")
    leaked = accepted = crashes = 0
    for name, (section, url) in URLS.items():
        config = tmp_path / f"{name.replace(' ', '-')}.toml"
        text = VALID_TOML
        if where == "environment":
            monkeypatch.setenv(f"OFFBOARD_{section.upper()}__BASE_URL", url)
        else:
            text = text.replace(f"[{section}]\n", f'[{section}]\nbase_url = "{url}"\n', 1)
            text = text.replace('base_url = "https://sso.example.com"\n', "", section == "keycloak")
        config.write_text(text, encoding="utf-8")
        for command in (["config", "show"], ["config", "check"], ["plan"]):
            result = runner.invoke(app, ["--config", str(config), *command])
            leaked += PASSWORD in result.output
            accepted += result.exit_code != 4
            crashes += "unexpected error" in result.output or "Traceback" in result.output
            assert result.exit_code == 4, (name, command, result.output)
            assert f"{section}.base_url" in result.output, result.output
        monkeypatch.delenv(f"OFFBOARD_{section.upper()}__BASE_URL", raising=False)
    assert (leaked, accepted, crashes) == (0, 0, 0)
    hostile_row(
        area=f"credentials in base_url ({where})",
        inputs=len(URLS) * 3,
        wrongful_actions=accepted,
        crashes=crashes,
        secrets_leaked=leaked,
        lost_actions=0,
        note="user:password@, password-only userinfo, no scheme; config show/check, plan",
    )
