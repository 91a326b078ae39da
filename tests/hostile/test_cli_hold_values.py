"""`offboard hold show` and `hold release --category` with a hostile email among the people
waiting (a linked person's Keycloak email changed to one, then they left): no terminal
escape reaches the operator's terminal; the value is shown as its escapes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from offboard.cli.exit_codes import ExitCode
from offboard.cli.main import app
from offboard.core.holds import Waiting
from offboard.core.operator_requests import RequestKind, RequestState
from offboard.store import open_store
from offboard.store.operator_requests import StoredRequests
from tests.hostile.cli_env import clean_cli_env as clean_cli_env  # autouse

ESCAPES = "\x1b]0;pwned\x07\x1b[2J\u202e"
EMAIL = f"eve{ESCAPES}@acme.example"


def held(tmp_path: Path, category: str) -> Path:
    path = tmp_path / "state.sqlite3"
    store = open_store(path)
    try:
        now = datetime.now(UTC)
        waiting = [Waiting(f"deactivate:k1:a1{ESCAPES}", "deactivate", "k1", f"a1{ESCAPES}",
                           EMAIL, now)]  # fmt: skip
        store.hold_plan(category, ["deprovisioning-budget"], f"budget spent{ESCAPES}", now,
                        waiting)  # fmt: skip
    finally:
        store.close()
    config = tmp_path / "offboard.toml"
    config.write_text(
        '[keycloak]\nbase_url = "http://127.0.0.1:1"\nrealm = "r"\nclient_id = "c"\n'
        'client_secret = "kc-secret-value"\n[atlassian]\norg_id = "o"\n'
        f'api_key = "atlassian-key-value"\n[store]\npath = "{path}"\n',
        encoding="utf-8",
    )
    return config


def test_hold_show_prints_no_terminal_escape(tmp_path: Path) -> None:
    config = held(tmp_path, "deprovisioning")
    result = CliRunner().invoke(app, ["--config", str(config), "hold", "show"])
    assert result.exit_code == ExitCode.BLOCKED, result.output
    for character in ("\x1b", "\x07", "\u202e"):
        assert character not in result.output, repr(character)
    assert "eve\\x1b]0;pwned" in " ".join(result.output.split())


def test_a_provisioning_release_prints_no_terminal_escape(tmp_path: Path) -> None:
    config = held(tmp_path, "provisioning-creates")
    release = ["hold", "release", "--category", "provisioning-creates", "--reason", "ok", "--yes"]
    result = CliRunner().invoke(app, ["--config", str(config), *release])
    assert result.exit_code == ExitCode.OK, result.output
    for character in ("\x1b", "\x07", "\u202e"):
        assert character not in result.output, repr(character)


def test_cutoff_requests_print_no_terminal_escape(tmp_path: Path) -> None:
    """A person named through a crafted console link, an outcome quoting a vendor."""
    config = held(tmp_path, "deprovisioning")
    store = open_store(tmp_path / "state.sqlite3")
    try:
        requests = StoredRequests(store.engine)
        made = requests.queue(RequestKind.CUTOFF, EMAIL, actor="console:ada", reason="r",
                              overrides=(), at=datetime.now(UTC))  # fmt: skip
        requests.finish(made.id, RequestState.FAILED, f"HTTP 400{ESCAPES}", datetime.now(UTC))
    finally:
        store.close()
    result = CliRunner().invoke(app, ["--config", str(config), "cutoff", "requests"])
    assert result.exit_code == ExitCode.OK, result.output
    for character in ("\x1b", "\x07", "\u202e"):
        assert character not in result.output, repr(character)
    assert "eve\\x1b]0;pwned" in result.output
