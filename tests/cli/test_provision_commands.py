"""`offboard provision plan|apply` against both emulators over loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from offboard.cli.demo import DOMAIN, atlassian_fixture, keycloak_seed
from offboard.cli.demo_provisioning import add_teams_and_joiner
from offboard.cli.emulate import Which, ready_config, serving
from offboard.cli.exit_codes import ExitCode
from offboard.cli.main import app
from tests.cli.test_run_commands import World

PROVISIONING = '\n[provisioning]\nenabled = true\ngroup_prefixes = ["/teams"]\n'


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with serving(Which.BOTH, port=0, people=10) as served:
        config = tmp_path / "offboard.toml"
        store = tmp_path / "state.sqlite3"
        text = ready_config(served.urls, (keycloak_seed(), atlassian_fixture()))
        text = text.replace("offboard-emulated.sqlite3", str(store)) + PROVISIONING
        config.write_text(text, encoding="utf-8")
        add_teams_and_joiner(served.keycloak, DOMAIN, "/staff")
        yield World(served, config, store)


def test_a_saved_provisioning_plan_applies_then_nothing_is_left(
    world: World, runner: CliRunner, tmp_path: Path
) -> None:
    out = tmp_path / "provision.json"
    code, output = world.run(runner, "provision", "plan", "--out", str(out))
    assert code == ExitCode.CHANGES, output
    kinds = json.loads(out.read_text(encoding="utf-8"))["summary"]["actions_by_kind"]
    assert kinds == {"scim_add_members": 1, "scim_create_group": 2, "scim_create_user": 1}
    code, output = world.run(runner, "provision", "apply", str(out), "--yes")
    assert code == ExitCode.OK, output
    code, output = world.run(runner, "provision", "plan")
    assert code == ExitCode.OK, output
    directory = next(iter(world.served.atlassian.orgs.values())).scim_directories["acme-scim"]
    assert {u.user_name for u in directory.users.values()} >= {f"nora.new@{DOMAIN}"}


def test_a_tampered_provisioning_plan_is_refused(
    world: World, runner: CliRunner, tmp_path: Path
) -> None:
    out = tmp_path / "provision.json"
    world.run(runner, "provision", "plan", "--out", str(out))
    document = json.loads(out.read_text(encoding="utf-8"))
    document["actions"][0]["attributes"][0][1] = "someone-else@acme.example"
    out.write_text(json.dumps(document), encoding="utf-8")
    code, output = world.run(runner, "provision", "apply", str(out), "--yes")
    assert code == ExitCode.REFUSED, output


def test_provisioning_off_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    with serving(Which.BOTH, port=0, people=10) as served:
        config = tmp_path / "offboard.toml"
        config.write_text(ready_config(served.urls, (keycloak_seed(), atlassian_fixture())))
        result = runner.invoke(app, ["--config", str(config), "provision", "plan"])
    assert result.exit_code == ExitCode.REFUSED
    assert "provisioning is off" in result.output


def test_creates_beyond_the_budget_are_held_until_released_by_category(
    world: World, runner: CliRunner
) -> None:
    budget = "\n[provisioning.budget]\ncreates_per_hour = 2\ncreates_per_day = 2\n"
    world.config.write_text(world.config.read_text(encoding="utf-8") + budget, encoding="utf-8")
    code, output = world.run(runner, "provision", "apply", "--yes")  # 3 creates: 2 sent
    assert code == ExitCode.BLOCKED, output
    assert "1 SCIM writes held, not sent: provisioning-budget: 2" in output
    code, output = world.run(runner, "hold", "show")
    assert code == ExitCode.BLOCKED, output
    assert "no hold: deprovisioning goes on" in output
    assert "1 provisioning-creates actions waiting" in output
    code, output = world.run(runner, "provision", "apply", "--yes")  # still held
    assert code == ExitCode.BLOCKED, output
    code, output = world.run(
        runner, "hold", "release", "--category", "provisioning-creates", "--yes",
        "--reason", "three creates are fine",
    )  # fmt: skip
    assert code == ExitCode.OK, output
    code, output = world.run(runner, "provision", "apply", "--yes")
    assert code == ExitCode.OK, output
    code, output = world.run(runner, "provision", "plan")
    assert code == ExitCode.OK, output


def test_a_joiner_offboard_provisioned_is_deprovisioned_when_they_leave_before_a_reconcile(
    world: World, runner: CliRunner, tmp_path: Path
) -> None:
    """The SCIM create names the person's Atlassian account: offboard links the two then,
    so someone who leaves before the next reconciliation is a leaver, not day-one backlog."""
    code, output = world.run(runner, "apply", "--yes")  # every other person linked
    assert code == ExitCode.OK, output
    code, output = world.run(runner, "provision", "apply", "--yes")
    assert code == ExitCode.OK, output
    world.disable("nora.new")
    out = tmp_path / "plan.json"
    code, output = world.run(runner, "plan", "--out", str(out))
    document = json.loads(out.read_text(encoding="utf-8"))
    nora = [a for a in document["actions"] if a["email"] == f"nora.new@{DOMAIN}"]
    assert [a["kind"] for a in nora] == ["scim_deactivate"], output
    assert document["summary"]["day_one"]["backlog"] == 0, document["summary"]


def test_a_joiner_whose_domain_atlassian_has_not_verified_is_blocked(
    world: World, runner: CliRunner, tmp_path: Path
) -> None:
    """partner.example is in offboard's domains but not verified in the emulated org:
    SCIM would answer 400 invalidValue to the create, a failed action on every pass."""
    import uuid

    from offboard_emulators.keycloak.model import User

    realm = world.served.keycloak.realm
    pia = User(str(uuid.uuid4()), "pia.partner", realm.now_ms(), email="pia@partner.example")
    realm.add_user(pia)
    staff = realm.group_by_path("/staff")
    assert staff is not None
    realm.set_membership(pia.id, staff.id, member=True)
    realm._listing = None
    out = tmp_path / "provision.json"
    world.run(runner, "provision", "plan", "--out", str(out))
    document = json.loads(out.read_text(encoding="utf-8"))
    assert "pia@partner.example" not in [a["email"] for a in document["actions"]]
    (blocked,) = [b for b in document["blocked"] if b["email"] == "pia@partner.example"]
    assert blocked["rule"] == "provision-domain-unverified", blocked


def _in_teams(world: World, username: str, *, account: bool) -> str:
    """A person in /staff and /teams/jira-devs; with ``account``, a managed Atlassian account
    of the same email and no SCIM record (someone who was there before SCIM)."""
    import uuid

    from offboard.cli.demo import DIRECTORY, ORG
    from offboard_emulators.atlassian.model import Account
    from offboard_emulators.keycloak.model import User

    email = f"{username}@{DOMAIN}"
    realm = world.served.keycloak.realm
    user = realm.add_user(User(str(uuid.uuid4()), username, realm.now_ms(), email=email))
    for path in ("/staff", "/teams/jira-devs"):
        group = realm.group_by_path(path)
        assert group is not None
        realm.set_membership(user.id, group.id, member=True)
    realm._listing = None
    if account:
        state = world.served.atlassian
        with state.lock:
            state.add_account(Account(f"pre-{username}", email, username, username, ORG),
                              {DIRECTORY: "active"})  # fmt: skip
    return email


def test_an_account_offboard_links_to_the_person_is_brought_under_scim_not_blocked(
    world: World, runner: CliRunner, tmp_path: Path
) -> None:
    """Enabling SCIM on an org whose people already have accounts: a person offboard links
    to the account of their email gets a SCIM create, which Atlassian links to that account
    (no second account); one offboard does not link to it stays blocked for a human."""
    olga = _in_teams(world, "olga.old", account=True)
    code, output = world.run(runner, "apply", "--yes")  # links olga to her account
    assert code == ExitCode.OK, output
    pete = _in_teams(world, "pete.prior", account=True)  # not linked yet: a guess
    out = tmp_path / "provision.json"
    world.run(runner, "provision", "plan", "--out", str(out))
    document = json.loads(out.read_text(encoding="utf-8"))
    (create,) = [a for a in document["actions"] if a["email"] == olga]
    assert (create["kind"], create["rule"]) == ("scim_create_user", "provision-existing-account")
    assert "offboard links them to the Atlassian account" in create["reason"]
    (blocked,) = [b for b in document["blocked"] if b["email"] == pete]
    assert blocked["rule"] == "provision-email-taken"
    assert "take it over" in blocked["reason"]
    code, output = world.run(runner, "provision", "apply", str(out), "--yes")
    assert code == ExitCode.OK, output
    state = world.served.atlassian
    account = state.account_by_email(olga)
    assert account is not None
    assert account.account_id == "pre-olga.old"  # linked, not a second account
    directory = next(iter(state.orgs.values())).scim_directories["acme-scim"]
    (record,) = [u for u in directory.users.values() if u.user_name == olga]
    assert record.account_id == "pre-olga.old"
