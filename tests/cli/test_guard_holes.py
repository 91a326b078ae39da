"""Issue 11's two holes in the guards, reproduced with the CLI on both store backends.

* The count-drop guard lifted itself: a blocked read-only `plan` saved its count as the new
  baseline, so the next `apply --yes` went through with no override journaled.
* The grace period never ended under cron: `apply` did not save the "first seen leaving"
  marks, so every run started a new one and the leaver was never deactivated.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine
from typer.testing import CliRunner

from offboard.cli.demo import DOMAIN, STAFF, atlassian_fixture, keycloak_seed, person
from offboard.cli.emulate import Which, ready_config, serving
from offboard.cli.exit_codes import ExitCode
from offboard_emulators.keycloak.model import User
from tests.cli.test_run_commands import World

POSTGRES_URL = os.environ.get("OFFBOARD_TEST_POSTGRES_URL", "")


def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    existing = MetaData()
    existing.reflect(engine)
    existing.drop_all(engine)
    engine.dispose()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(
                not POSTGRES_URL, reason="set OFFBOARD_TEST_POSTGRES_URL to test on PostgreSQL"
            ),
        ),
    ]
)
def store_line(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        _empty_postgres(POSTGRES_URL)
        return f'url = "{POSTGRES_URL}"'
    return f'path = "{tmp_path / "state.sqlite3"}"'


def _world(tmp_path: Path, store_line: str, people: int, policy: str) -> Iterator[World]:
    with serving(Which.BOTH, port=0, people=people) as served:
        config = tmp_path / "offboard.toml"
        text = ready_config(served.urls, (keycloak_seed(), atlassian_fixture()))
        text = text.replace('path = "offboard-emulated.sqlite3"', store_line)
        if policy:
            assert "[policy]" not in text
            text += f"\n[policy]\n{policy}"
        config.write_text(text, encoding="utf-8")
        yield World(served, config, tmp_path / "unused")


@pytest.fixture
def hundred(tmp_path: Path, store_line: str) -> Iterator[World]:
    """60 linked people and 40 in-scope Keycloak users with no Atlassian account."""
    for world in _world(tmp_path, store_line, 60, ""):
        _add_unlinked(world, [f"unlinked-{n:02d}" for n in range(40)])
        yield world


def test_a_blocked_plan_does_not_lift_the_count_drop_guard(
    hundred: World, runner: CliRunner
) -> None:
    code, output = hundred.run(runner, "apply", "--yes")
    assert code == ExitCode.OK, output
    realm = hundred.served.keycloak.realm
    gone = [person(n) for n in range(3)] + [f"unlinked-{n:02d}" for n in range(12)]
    for name in gone:
        user = realm.user_by_username(name)
        assert user is not None
        realm.remove_user(user.id)
    code, output = hundred.run(runner, "plan")
    assert code == ExitCode.BLOCKED, output
    assert "source-count-drop" in output
    code, output = hundred.run(runner, "apply", "--yes")  # no override: still blocked
    assert code == ExitCode.BLOCKED, output
    assert [hundred.account_status(f"{person(n)}@{DOMAIN}") for n in range(3)] == ["active"] * 3
    code, output = hundred.run(runner, "plan")  # and a third time: the guard did not lift
    assert code == ExitCode.BLOCKED, output

    code, output = hundred.run(runner, "apply", "--yes", "--override-guard", "source-count-drop")
    assert code == ExitCode.OK, output
    assert [hundred.account_status(f"{person(n)}@{DOMAIN}") for n in range(3)] == ["inactive"] * 3
    _, journal = hundred.run(runner, "journal", "list", "--format", "jsonl")
    assert "guard overridden: source-count-drop" in journal
    code, output = hundred.run(runner, "plan")  # the journaled override moved the baseline
    assert code == ExitCode.OK, output


def _link_everyone_then_drop_unlinked(world: World, runner: CliRunner) -> None:
    """A first apply (links only), then 15 unlinked people gone: a count drop of 15 %."""
    code, output = world.run(runner, "apply", "--yes")
    assert code == ExitCode.OK, output
    realm = world.served.keycloak.realm
    for n in range(15):
        user = realm.user_by_username(f"unlinked-{n:02d}")
        assert user is not None
        realm.remove_user(user.id)


def test_accepting_a_drop_that_leaves_nothing_to_send_moves_the_baseline(
    hundred: World, runner: CliRunner
) -> None:
    # A narrower scope on day one: fewer Keycloak users, nobody to deprovision. The override
    # was announced "journaled", yet nothing was, and every later plan stayed blocked.
    _link_everyone_then_drop_unlinked(hundred, runner)
    code, output = hundred.run(runner, "plan")
    assert code == ExitCode.BLOCKED, output

    code, output = hundred.run(runner, "apply", "--yes", "--override-guard", "source-count-drop")
    assert code == ExitCode.OK, output
    _, journal = hundred.run(runner, "journal", "list", "--format", "jsonl")
    assert "guard overridden: source-count-drop" in journal
    code, output = hundred.run(runner, "plan")
    assert code == ExitCode.OK, output


@pytest.fixture
def graceful(tmp_path: Path, store_line: str) -> Iterator[World]:
    yield from _world(tmp_path, store_line, 20, 'grace_period = "2s"\n')


def test_a_cron_driven_apply_ends_the_grace_period(graceful: World, runner: CliRunner) -> None:
    code, output = graceful.run(runner, "apply", "--yes")
    assert code == ExitCode.OK, output
    graceful.disable(person(5))
    email = f"{person(5)}@{DOMAIN}"
    code, output = graceful.run(runner, "apply", "--yes")  # first seen leaving: a mark only
    assert code == ExitCode.OK, output
    assert "bookkeeping records saved" in output
    assert graceful.account_status(email) == "active"
    time.sleep(2.5)
    code, output = graceful.run(runner, "apply", "--yes")
    assert code == ExitCode.OK, output
    assert graceful.account_status(email) == "inactive"


def _add_unlinked(world: World, names: list[str]) -> None:
    realm = world.served.keycloak.realm
    staff = realm.group_by_path(STAFF)
    assert staff is not None
    for name in names:
        user = realm.add_user(
            User(id=str(uuid.uuid4()), username=name, created=int(time.time() * 1000),
                 email=f"{name}@{DOMAIN}", email_verified=True)
        )  # fmt: skip
        realm.set_membership(user.id, staff.id, member=True)


def test_a_source_anomaly_pauses_one_person_deprovisioning_until_a_healthy_full_read(
    hundred: World, runner: CliRunner
) -> None:
    _link_everyone_then_drop_unlinked(hundred, runner)
    code, output = hundred.run(runner, "plan")  # a read-only plan sees the drop
    assert code == ExitCode.BLOCKED, output
    hundred.disable(person(10))
    email = f"{person(10)}@{DOMAIN}"
    code, output = hundred.run(runner, "deactivate", email, "--yes")
    assert code == ExitCode.BLOCKED, output
    assert "source anomaly in the last full Keycloak read" in output
    assert hundred.account_status(email) == "active"
    _add_unlinked(hundred, [f"newcomer-{n:02d}" for n in range(15)])
    code, output = hundred.run(runner, "plan")  # healthy again: back to the old count
    assert code == ExitCode.CHANGES, output
    code, output = hundred.run(runner, "deactivate", email, "--yes")
    assert code == ExitCode.OK, output
    assert hundred.account_status(email) == "inactive"
