"""`offboard cutoff now` while `offboard run` leads: the act is handed to the daemon.

In production a daemon always holds the leader lease, and a command-line cut-off used to be
refused ("stop the daemon"). Now it is queued in the store; the daemon carries it out under
its own lease, journaled with the operator's name and reason, and the command reports the
outcome. Another command-line apply holding the lease still means a refusal.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from offboard.cli.demo import DOMAIN, person
from offboard.cli.exit_codes import ExitCode
from offboard.core.operator_requests import RequestKind, RequestState
from offboard.service.leasing import LEASE_NAME
from offboard.store import open_store
from offboard.store.operator_requests import StoredRequests
from offboard_emulators.common.server import free_port
from tests.cli.test_run_commands import World, linked, world

__all__ = ["linked", "world"]  # fixtures used below
PROTECTED = f"{person(6)}@{DOMAIN}"
pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _leader(world: World) -> str | None:
    store = open_store(world.store)
    try:
        return StoredRequests(store.engine).leader(LEASE_NAME, datetime.now(UTC))
    finally:
        store.close()


@pytest.fixture
def daemon(linked: World) -> Iterator[World]:
    """`offboard run` on the linked world, leading its store."""
    port = free_port()
    protect = f'[policy]\nprotected_emails = ["{PROTECTED}"]'
    text = linked.config.read_text()
    text = text.replace("[policy]", protect, 1) if "[policy]" in text else f"{text}\n{protect}\n"
    text += f'\n[daemon]\nlisten_host = "127.0.0.1"\nlisten_port = {port}\npoll_interval = "1s"\n'
    linked.config.write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OFFBOARD_")}
    command = [sys.executable, "-m", "offboard", "--config", str(linked.config), "run"]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while _leader(linked) is None:
            assert process.poll() is None, f"offboard run exited: {process.stderr}"
            assert time.monotonic() < deadline, "the daemon never took the lease"
            time.sleep(0.2)
        yield linked
    finally:
        process.terminate()
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def test_a_cutoff_while_the_daemon_leads_is_carried_out_by_the_daemon(
    daemon: World, runner: CliRunner
) -> None:
    email = f"{person(5)}@{DOMAIN}"
    code, output = daemon.run(
        runner, "cutoff", "now", email, "--reason", "left today, ticket 5120",
        "--actor", "alice", "--yes", "--wait", "60",
    )  # fmt: skip
    assert code == ExitCode.OK, output
    assert "handed to it" in output
    assert "done" in output
    assert daemon.account_status(email) == "inactive"
    store = open_store(daemon.store)
    try:
        journal = [f"{r.rule} {r.detail}" for r in store.journal(identity_id=None)]
        (handed,) = StoredRequests(store.engine).recent(5)
    finally:
        store.close()
    assert any("manual-cutoff" in line and "alice" in line and "5120" in line for line in journal)
    assert handed.actor == "alice"
    assert handed.state == "done"
    code, output = daemon.run(runner, "cutoff", "requests")
    assert code == ExitCode.OK, output
    assert f"#{handed.id}" in output
    assert "done" in output


def test_a_handed_act_the_daemon_finds_protected_is_refused_by_it(
    daemon: World, runner: CliRunner
) -> None:
    """The daemon decides from its own fresh reads and checks: a request for a protected
    principal (queued as the command would, past its own check) is refused, not acted on."""
    email = PROTECTED
    store = open_store(daemon.store)
    try:
        requests = StoredRequests(store.engine)
        queued = requests.queue(
            RequestKind.CUTOFF, email, actor="mallory", reason="x", overrides=(),
            at=datetime.now(UTC),
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not (found := requests.get(queued.id)) or not found.state.finished:
            assert time.monotonic() < deadline, "the daemon never finished the request"
            time.sleep(0.2)
    finally:
        store.close()
    assert found.state == RequestState.REFUSED, found
    assert "protected" in found.outcome
    assert daemon.account_status(email) == "active"
    code, output = daemon.run(
        runner, "cutoff", "now", email, "--reason", "x", "--yes", "--wait", "60"
    )
    assert code == ExitCode.REFUSED, output  # the command refuses it itself first


def test_a_cutoff_is_refused_while_another_command_holds_the_lease(
    linked: World, runner: CliRunner
) -> None:
    store = open_store(linked.store)
    try:
        now = datetime.now(UTC)
        assert store.acquire_lease(LEASE_NAME, "cli:elsewhere", timedelta(hours=1), now)
        email = f"{person(7)}@{DOMAIN}"
        code, output = linked.run(runner, "cutoff", "now", email, "--reason", "x", "--yes")
        assert code == ExitCode.REFUSED, output
        assert "holds the leader lease" in output
        assert StoredRequests(store.engine).recent(5) == []  # nobody would take it
        assert linked.account_status(email) == "active"
    finally:
        store.close()
