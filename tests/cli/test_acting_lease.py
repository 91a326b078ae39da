"""A command-line apply acts under the leader lease: refused while a daemon leads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from offboard.cli.demo import DOMAIN, person
from offboard.cli.exit_codes import ExitCode
from offboard.cli.main import app
from offboard.store import open_store
from tests.cli.test_run_commands import World, linked, world  # noqa: F401  (fixtures)


def test_apply_is_refused_while_a_daemon_holds_the_lease(linked: World, runner: CliRunner) -> None:  # noqa: F811
    linked.disable(person(12))
    store = open_store(linked.store)
    try:
        assert store.acquire_lease("daemon", "daemon-1", timedelta(hours=1), datetime.now(UTC))
        code, output = linked.run(runner, "apply", "--yes")
        assert code == ExitCode.REFUSED, output
        assert "holds the leader lease" in output
        assert linked.account_status(f"{person(12)}@{DOMAIN}") == "active"
        code, output = linked.run(runner, "deactivate", f"{person(12)}@{DOMAIN}", "--yes")
        assert code == ExitCode.REFUSED, output
        store.release_lease("daemon", "daemon-1")  # the daemon stopped
        code, output = linked.run(runner, "apply", "--yes")
        assert code == ExitCode.OK, output
        assert linked.account_status(f"{person(12)}@{DOMAIN}") == "inactive"
        # The apply released the lease it took; the daemon takes it back with a newer token.
        now = datetime.now(UTC)
        assert store.acquire_lease("daemon", "daemon-1", timedelta(hours=1), now)
        token = store.lease_token("daemon", "daemon-1", now)
        assert token is not None
        assert token == 4  # the linking apply, the daemon, this apply, the daemon again
    finally:
        store.close()


@pytest.mark.parametrize("key", ["lease_ttl", "poll_interval", "reconcile_interval"])
def test_run_refuses_a_zero_duration_at_start(
    config_file: Path, runner: CliRunner, key: str
) -> None:
    config_file.write_text(config_file.read_text() + f"\n[daemon]\n{key} = '0s'\n")
    result = runner.invoke(app, ["--config", str(config_file), "run"])
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert f"daemon.{key}: must be longer than zero" in result.output
