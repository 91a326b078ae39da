"""plan, apply, deactivate and their refusals, against both emulators over loopback."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from offboard.cli.demo import DOMAIN, ORG, atlassian_fixture, keycloak_seed, person
from offboard.cli.emulate import Served, Which, ready_config, serving
from offboard.cli.exit_codes import ExitCode
from offboard.cli.main import app
from offboard.store import open_store
from offboard_emulators.atlassian.model import ApiKey


def links_in(path: Path) -> int:
    store = open_store(path)
    try:
        return len(store.links())
    finally:
        store.close()


@dataclass
class World:
    served: Served
    config: Path
    store: Path

    def run(self, runner: CliRunner, *args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["--config", str(self.config), *args])
        assert "Traceback" not in result.output
        return result.exit_code, result.output

    def keycloak_user(self, username: str) -> object:
        user = self.served.keycloak.realm.user_by_username(username)
        assert user is not None
        return user

    def account_status(self, email: str) -> str:
        state = self.served.atlassian
        account = state.account_by_email(email)
        assert account is not None
        return account.account_status

    def disable(self, username: str) -> None:
        self.keycloak_user(username).enabled = False  # type: ignore[attr-defined]
        self.served.keycloak.realm._listing = None


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with serving(Which.BOTH, port=0, people=30) as served:
        config = tmp_path / "offboard.toml"
        store = tmp_path / "state.sqlite3"
        text = ready_config(served.urls, (keycloak_seed(), atlassian_fixture()))
        config.write_text(text.replace("offboard-emulated.sqlite3", str(store)), encoding="utf-8")
        # An empty store, as after `offboard store migrate`: commands do not announce a new
        # one (tests/cli/test_store_locations.py does), so their output is theirs alone.
        open_store(store).close()
        yield World(served, config, store)


@pytest.fixture
def linked(world: World, runner: CliRunner) -> World:
    """Day 1 applied: every person linked."""
    code, output = world.run(runner, "apply", "--yes")
    assert code == ExitCode.OK, output
    return world


def test_first_plan_links_everyone_and_saves_the_document(
    world: World, runner: CliRunner, tmp_path: Path
) -> None:
    out = tmp_path / "plan.json"
    code, output = world.run(runner, "plan", "--out", str(out), "--no-skipped")
    assert code == ExitCode.OK, output  # links alone change nothing in Atlassian
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["summary"]["actions_by_kind"]["link"] >= 30
    assert document["summary"]["blocked_by_rule"] == {"ambiguous-identities": 2}


def test_saved_plan_applies_then_nothing_is_left(
    world: World, runner: CliRunner, tmp_path: Path
) -> None:
    out = tmp_path / "plan.json"
    world.run(runner, "plan", "--out", str(out))
    code, output = world.run(runner, "apply", str(out), "--yes")
    assert code == ExitCode.OK, output
    assert "still holds against fresh reads" in output
    code, output = world.run(runner, "plan")
    assert code == ExitCode.OK, output


def test_a_tampered_plan_is_refused_before_anything_is_read(
    world: World, runner: CliRunner, tmp_path: Path
) -> None:
    out = tmp_path / "plan.json"
    world.run(runner, "plan", "--out", str(out))
    document = json.loads(out.read_text(encoding="utf-8"))
    document["actions"][0]["account_id"] = "someone-else"
    out.write_text(json.dumps(document), encoding="utf-8")
    world.served.atlassian  # noqa: B018 - nothing below may reach it
    code, output = world.run(runner, "apply", str(out), "--yes")
    assert code == ExitCode.REFUSED
    assert "fingerprint does not match" in output
    assert links_in(world.store) == 0


def test_a_corrupt_plan_file_is_refused(world: World, runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    out.write_text('{"version": 1, "actions": [', encoding="utf-8")
    code, output = world.run(runner, "apply", str(out), "--yes")
    assert code == ExitCode.REFUSED
    assert "not a JSON plan document" in output


def test_a_plan_the_world_outgrew_is_refused(
    world: World, runner: CliRunner, tmp_path: Path
) -> None:
    out = tmp_path / "plan.json"
    world.run(runner, "plan", "--out", str(out))
    realm = world.served.keycloak.realm
    realm.remove_user(realm.user_by_username(person(1)).id)  # type: ignore[union-attr]
    code, output = world.run(runner, "apply", str(out), "--yes")
    assert code == ExitCode.REFUSED, output
    assert "the world changed since plan" in output
    assert f"- link {person(1)}@{DOMAIN} (matched-by-email)" in output  # the diff, line by line
    assert links_in(world.store) == 0


def test_an_old_plan_is_refused(world: World, runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    world.run(runner, "plan", "--out", str(out))
    code, output = world.run(runner, "apply", str(out), "--yes", "--max-age", "0")
    assert code == ExitCode.REFUSED
    assert "--max-age" in output


def test_apply_without_a_terminal_needs_yes(world: World, runner: CliRunner) -> None:
    code, output = world.run(runner, "apply")
    assert code == ExitCode.REFUSED
    assert "pass --yes" in output
    assert world.served.keycloak.requests.entries() == []


def test_leaver_is_deactivated_and_read_back(linked: World, runner: CliRunner) -> None:
    linked.disable(person(10))
    code, output = linked.run(runner, "plan")
    assert code == ExitCode.CHANGES, output
    code, output = linked.run(runner, "apply", "--yes")
    assert code == ExitCode.OK, output
    assert "verified" in output
    assert linked.account_status(f"{person(10)}@{DOMAIN}") == "inactive"
    code, output = linked.run(runner, "journal", "list", "--user", f"{person(10)}@{DOMAIN}")
    assert "readback" in output


def test_deactivate_one_person(linked: World, runner: CliRunner) -> None:
    linked.disable(person(16))
    code, output = linked.run(runner, "deactivate", f"{person(16)}@{DOMAIN}", "--yes")
    assert code == ExitCode.OK, output
    assert linked.account_status(f"{person(16)}@{DOMAIN}") == "inactive"


def test_deactivate_refuses_someone_still_enabled(linked: World, runner: CliRunner) -> None:
    code, output = linked.run(runner, "deactivate", f"{person(15)}@{DOMAIN}", "--yes")
    assert code == ExitCode.REFUSED, output  # `deactivate X --yes && echo done` says no
    assert "nothing to deactivate" in output
    assert "offboard cutoff now" in " ".join(output.split())  # the way, when it is meant
    assert linked.account_status(f"{person(15)}@{DOMAIN}") == "active"


def test_a_guard_blocks_until_overridden(linked: World, runner: CliRunner) -> None:
    text = linked.config.read_text(encoding="utf-8")
    linked.config.write_text(text + "\n[policy.thresholds]\nmax_deactivations = 0\n")
    linked.disable(person(25))
    code, output = linked.run(runner, "plan")
    assert code == ExitCode.BLOCKED, output
    assert "max-deactivations" in output
    code, _ = linked.run(runner, "apply", "--yes")
    assert code == ExitCode.BLOCKED
    assert linked.account_status(f"{person(25)}@{DOMAIN}") == "active"
    code, output = linked.run(runner, "apply", "--yes", "--override-guard", "max-deactivations")
    assert code == ExitCode.OK, output
    assert linked.account_status(f"{person(25)}@{DOMAIN}") == "inactive"
    _, journal = linked.run(runner, "journal", "list", "--format", "jsonl")
    assert "guard overridden" in journal


def test_wrong_keycloak_secret_is_one_line(world: World, runner: CliRunner) -> None:
    text = world.config.read_text(encoding="utf-8")
    world.config.write_text(text.replace("demo-client-secret", "wrong-secret"))
    code, output = world.run(runner, "plan")
    assert code == ExitCode.ERROR, output
    assert "wrong-secret" not in output
    assert len(output.strip().splitlines()) == 1, output


@pytest.mark.slow  # the adapters retry a refused connection a few times before giving up
def test_unreachable_host_is_one_line(world: World, runner: CliRunner) -> None:
    text = world.config.read_text(encoding="utf-8")
    world.config.write_text(text.replace(world.served.urls["keycloak"], "http://127.0.0.1:9"))
    code, output = world.run(runner, "plan")
    assert code == ExitCode.UNREACHABLE
    assert "127.0.0.1:9" in output
    assert len(output.strip().splitlines()) == 1, output


def test_an_expired_atlassian_key(world: World, runner: CliRunner) -> None:
    world.served.atlassian.add_key(
        ApiKey("old", "expired-key", "org", ORG, expires_at=datetime.now(UTC) - timedelta(days=1))
    )
    text = world.config.read_text(encoding="utf-8")
    world.config.write_text(text.replace('api_key = "demo-org-key"', 'api_key = "expired-key"'))
    code, output = world.run(runner, "config", "check")
    assert code == ExitCode.ERROR
    assert "FAIL" in output
    assert "expired-key" not in output
    code, output = world.run(runner, "plan")
    assert code == ExitCode.ERROR
    assert len(output.strip().splitlines()) == 1, output


def test_a_store_from_a_newer_offboard(world: World, runner: CliRunner) -> None:
    open_store(world.store).close()
    with sqlite3.connect(world.store) as db:
        db.execute("UPDATE store_meta SET value = '999' WHERE key = 'schema_version'")
    before = world.store.read_bytes()
    code, output = world.run(runner, "plan")
    assert code == ExitCode.STORE
    assert "newer offboard" in output
    assert world.store.read_bytes() == before


def test_a_store_at_an_unknown_revision_does_not_contradict_itself(
    world: World, runner: CliRunner
) -> None:
    open_store(world.store).close()
    with sqlite3.connect(world.store) as db:
        db.execute("UPDATE alembic_version SET version_num = '0099'")
    code, output = world.run(runner, "plan")
    assert code == ExitCode.STORE
    assert "'0099'" in output
    assert "newer offboard" in output
    assert "supports up to" not in output  # "version 2 ... supports up to 2" was the old text


def test_a_corrupt_store_names_the_file_and_the_way_out(world: World, runner: CliRunner) -> None:
    world.store.write_bytes(b"this is not a database at all" * 200)
    code, output = world.run(runner, "plan")
    assert code == ExitCode.STORE
    assert str(world.store) in " ".join(output.split())
    assert "move it aside" in output
    assert "DatabaseError" not in output
    assert "unexpected" not in output


def test_plan_as_json_and_markdown(world: World, runner: CliRunner) -> None:
    code, output = world.run(runner, "plan", "--format", "json")
    assert code == ExitCode.OK  # day one with nobody gone: only links to record
    assert json.loads(output)["version"] == 1
    code, output = world.run(runner, "plan", "--format", "markdown")
    assert output.startswith("# offboard plan")


def test_config_check_passes_against_the_emulators(world: World, runner: CliRunner) -> None:
    code, output = world.run(runner, "config", "check")
    assert code == ExitCode.OK, output
    assert "FAIL" not in output


def test_reactivate_gives_back_what_offboard_took(linked: World, runner: CliRunner) -> None:
    text = linked.config.read_text(encoding="utf-8")
    linked.config.write_text(text + "\n[policy]\nreactivate = true\n")
    linked.disable(person(17))
    code, output = linked.run(runner, "deactivate", f"{person(17)}@{DOMAIN}", "--yes")
    assert code == ExitCode.OK, output
    wrong, output = linked.run(runner, "reactivate", f"{person(17)}@{DOMAIN}", "--yes")
    assert wrong == ExitCode.REFUSED, output  # still disabled in Keycloak
    assert "nothing to reactivate" in output
    linked.keycloak_user(person(17)).enabled = True  # type: ignore[attr-defined]
    linked.served.keycloak.realm._listing = None
    code, output = linked.run(runner, "reactivate", f"{person(17)}@{DOMAIN}", "--yes")
    assert code == ExitCode.OK, output
    assert linked.account_status(f"{person(17)}@{DOMAIN}") == "active"


def test_logs_are_json_with_the_run_id_and_no_secret(linked: World, runner: CliRunner) -> None:
    linked.disable(person(18))
    result = runner.invoke(
        app, ["--config", str(linked.config), "--log-level", "info", "apply", "--yes"]
    )
    assert result.exit_code == ExitCode.OK, result.output
    records = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    applied = [r for r in records if r.get("event") == "applied"]
    assert len(applied) == 1
    assert applied[0]["run_id"]
    assert applied[0]["invocation_id"]
    assert "demo-client-secret" not in result.output
    assert "demo-org-key" not in result.output


def test_config_check_warns_while_the_key_owner_and_key_expiry_are_unknown(
    world: World, runner: CliRunner
) -> None:
    code, output = world.run(runner, "config", "check")
    assert code == ExitCode.OK, output
    assert "WARN atlassian.key_owner: unknown" in output
    assert "WARN atlassian.api_key.expiry: expiry unknown" in output
    text = world.config.read_text(encoding="utf-8")
    soon = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    world.config.write_text(
        text.replace(
            "[atlassian]",
            f'[atlassian]\nkey_owner_account_id = "bot-account"\napi_key_expires_on = "{soon}"',
        )
    )
    code, output = world.run(runner, "config", "check")
    assert code == ExitCode.OK, output
    assert "OK   atlassian.key_owner: bot-account (configured)" in output
    assert f"WARN atlassian.api_key.expiry: atlassian.api_key expires on {soon}" in output
    assert "Settings → API keys" in output


def test_config_check_fails_on_an_expired_key_date(world: World, runner: CliRunner) -> None:
    text = world.config.read_text(encoding="utf-8")
    past = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    world.config.write_text(
        text.replace("[atlassian]", f'[atlassian]\napi_key_expires_on = "{past}"')
    )
    code, output = world.run(runner, "config", "check")
    assert code == ExitCode.ERROR
    assert "FAIL atlassian.api_key.expiry: atlassian.api_key expired" in output


def test_config_check_deep_reports_each_assumption(world: World, runner: CliRunner) -> None:
    version = world.served.atlassian.version
    code, output = world.run(runner, "config", "check", "--deep")
    assert code == ExitCode.OK, output
    for name in (
        "cursors", "platform_roles", "management_source", "directories",
        "json_content_type", "v1_retired", "licence_reads", "key_owner", "scim_links",
        "event_queries", "emails_per_search",
    ):  # fmt: skip
        assert f"assume.{name}:" in output, name
    # The licence check's v1 reads are probed, not called unused (they were said to be).
    words = " ".join(output.split())
    assert (
        "OK assume.licence_reads: v1 users: access_billable present; last-active-dates: "
        "added_to_org present [documented]" in words
    ), words
    assert "offboard uses only v2" not in words
    assert "[documented]" in output
    assert "[inferred from field reports]" in output
    assert "answers 415 (as assumed)" in output
    assert "v1 users/search answers 404" in output
    assert "OK assume.emails_per_search: one search takes 100 addresses" in words
    assert world.served.atlassian.version == version  # read-only: nothing changed


def test_config_check_deep_warns_of_a_tenant_that_takes_fewer_addresses_a_search(
    world: World, runner: CliRunner
) -> None:
    world.served.atlassian.realism.emails_filter_max = 10
    code, output = world.run(runner, "config", "check", "--deep")
    assert code == ExitCode.OK, output
    words = " ".join(output.split())
    assert "WARN assume.emails_per_search: a search of 100 addresses answers 400" in words
