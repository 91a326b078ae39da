"""`offboard links list|set|remove|resolve`: deciding what the plan leaves to a human."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from offboard.cli.demo import DOMAIN, person
from offboard.cli.exit_codes import ExitCode
from offboard.store import open_store
from tests.cli.test_run_commands import World, linked, world

__all__ = ["linked", "world"]  # fixtures used below
SHARED = f"shared@{DOMAIN}"


def _id_of(world: World, username: str) -> str:
    return str(world.keycloak_user(username).id)  # type: ignore[attr-defined]


def _journal_rules(world: World) -> list[tuple[str, str]]:
    store = open_store(world.store)
    try:
        return [(r.rule, r.reason) for r in store.journal()]
    finally:
        store.close()


def test_an_ambiguous_identity_is_decided_and_no_longer_blocks(
    linked: World, runner: CliRunner
) -> None:
    code, output = linked.run(runner, "plan")
    assert "ambiguous-identities" in output
    owner = _id_of(linked, "shared.one")
    code, output = linked.run(
        runner, "links", "resolve", SHARED, owner, "--reason", "HR confirmed", "--actor", "carol"
    )
    assert code == ExitCode.OK, output
    assert ("linked-by-hand", "by carol: HR confirmed") in _journal_rules(linked)
    code, output = linked.run(runner, "plan")
    assert code == ExitCode.OK, output
    assert "ambiguous-identities" not in output
    assert "decided-by-hand" in output
    code, output = linked.run(runner, "links", "list", "--person", SHARED, "--format", "json")
    assert [item["keycloak_id"] for item in json.loads(output)] == [owner]


def test_resolving_for_a_user_without_that_email_is_refused(
    linked: World, runner: CliRunner
) -> None:
    stranger = _id_of(linked, person(2))
    code, output = linked.run(runner, "links", "resolve", SHARED, stranger, "--reason", "x")
    assert code == ExitCode.REFUSED
    assert f"not {SHARED}" in output


def test_an_account_paired_twice_is_refused(linked: World, runner: CliRunner) -> None:
    listed = json.loads(
        linked.run(runner, "links", "list", "--person", f"{person(1)}@{DOMAIN}",
                   "--format", "json")[1]
    )  # fmt: skip
    account = listed[0]["account_id"]
    other = _id_of(linked, "shared.two")
    code, output = linked.run(runner, "links", "set", other, account, "--reason", "x")
    assert code == ExitCode.REFUSED
    assert "one account, one person" in output
    assert "offboard links remove" in output


def test_removing_a_pair_the_planner_would_remake_is_refused(
    linked: World, runner: CliRunner
) -> None:
    identity = _id_of(linked, person(1))
    code, output = linked.run(runner, "links", "remove", identity, "--reason", "x")
    assert code == ExitCode.REFUSED
    assert "would pair them again" in output


def test_a_link_is_removed_with_who_and_why(linked: World, runner: CliRunner) -> None:
    linked.disable(person(5))  # no longer a matching pair: the removal would stand
    identity = _id_of(linked, person(5))
    code, output = linked.run(
        runner, "links", "remove", identity, "--reason", "wrong pairing", "--actor", "dave"
    )
    assert code == ExitCode.OK, output
    assert ("unlinked-by-hand", "by dave: wrong pairing") in _journal_rules(linked)
    code, output = linked.run(runner, "links", "list", "--person", identity)
    assert "0 links" in output


def test_setting_a_link_to_a_missing_account_is_refused(linked: World, runner: CliRunner) -> None:
    code, output = linked.run(
        runner, "links", "set", _id_of(linked, "shared.two"), "no-such-account", "--reason", "x"
    )
    assert code == ExitCode.REFUSED
    assert "no account no-such-account" in output


def test_list_filters_by_state(linked: World, runner: CliRunner) -> None:
    code, output = linked.run(runner, "links", "list", "--state", "cut-off")
    assert code == ExitCode.OK
    assert "0 links" in output
    code, output = linked.run(runner, "links", "list", "--state", "active", "--format", "json")
    assert len(json.loads(output)) >= 30
