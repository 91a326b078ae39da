"""`offboard demo` end to end, and `offboard emulate`'s servers and printed configuration."""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx
import pytest
from rich.console import Console
from typer.testing import CliRunner

from offboard.cli.demo import (
    DOMAIN,
    PARTNER,
    atlassian_fixture,
    build_emulators,
    change_keycloak,
    demo_settings,
    keycloak_seed,
    person,
)
from offboard.cli.emulate import Which, ready_config, serving
from offboard.cli.exit_codes import ExitCode
from offboard.cli.flows import apply_in_run, fresh_plan
from offboard.cli.main import app
from offboard.cli.wiring import connect
from offboard.core.plan import Rule
from offboard.core.policy import ActionKind
from offboard.settings import Settings
from offboard.store import open_store
from offboard_emulators.atlassian import create_app as atlassian_app
from offboard_emulators.keycloak.app import create_app as keycloak_app


def test_demo_runs_every_case_and_reads_back_whatever_the_environment(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One demo run (about 9 s) checks both: it ignores an operator's OFFBOARD_* settings (a
    Keycloak it cannot reach would fail it), and it shows every case, read back."""
    monkeypatch.setenv("OFFBOARD_KEYCLOAK__BASE_URL", "https://sso.example.com")
    result = runner.invoke(app, ["demo", "--people", "20"])
    assert result.exit_code == 0, result.output
    output = result.output
    for expected in (
        "deactivate", "scim_deactivate", "suspend", "relink", "temporarily-locked",
        "protected-org-admin", "ownership-outside-domains", "ambiguous-identities",
        "ownership-never-linked", "identity-left-scope", "every action done and read back",
        "Day 3: a joiner", "scim_create_user nora.new@acme.example", "Day 4: a mover",
        "scim_remove_members jira-devs", "every SCIM write done and read back",
    ):  # fmt: skip
        assert expected in output, expected
    words = " ".join(output.split())  # rich wraps lines at the terminal's width
    assert "person-000012@acme.example: still enabled in Keycloak, but no longer" in words
    assert "una@partner.example: disabled in Keycloak, and a fresh read confirmed it; an" in words
    assert "unmanaged account: partner.example is listed in policy.domains" in words
    assert "mismatch" not in output
    assert "demo-client-secret" not in output
    # Day 3: one inactive person warned, one leaver's tokens revoked one by one.
    assert "warning mail to person-000016@acme.example (copy to it-admin@acme.example)" in words
    assert "revoked 2 of 2; none left" in words
    assert "journaled: token tok-00000001 (CI pipeline)" in words
    assert "journaled: token tok-00000002 (Personal script)" in words


async def test_demo_left_scope_and_unmanaged_cases_become_the_right_actions() -> None:
    """Through the adapters: person 12 left /staff (still enabled), una's partner domain is
    listed but unverified, olga's is neither."""
    keycloak, atlassian = build_emulators(20)
    transports = {
        "keycloak_transport": httpx.ASGITransport(app=keycloak_app(keycloak)),
        "atlassian_transport": httpx.ASGITransport(app=atlassian_app(atlassian)),
    }
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(Path(folder) / "demo.sqlite3")
        try:
            async with connect(demo_settings(), store=store, reread_delay=0, **transports) as w:
                first = (await fresh_plan(w, Console(quiet=True))).plan
                await apply_in_run(w, first, Console(quiet=True), kind="demo-link")
                change_keycloak(keycloak)
                plan = (await fresh_plan(w, Console(quiet=True))).plan
        finally:
            store.close()
    acted = {(a.email, a.kind, a.rule) for a in plan.actions}
    assert (f"{person(12)}@{DOMAIN}", ActionKind.DEACTIVATE, Rule.IDENTITY_LEFT_SCOPE) in acted
    assert (f"una@{PARTNER}", ActionKind.SUSPEND, Rule.IDENTITY_DISABLED) in acted
    skipped = {(e.email, e.rule) for e in plan.entries}
    assert ("olga@elsewhere.example", Rule.OUTSIDE_DOMAINS) in skipped
    # everyone else in /staff is fine: no other left-scope action
    assert [a.email for a in plan.actions if a.rule is Rule.IDENTITY_LEFT_SCOPE] == [
        f"{person(12)}@{DOMAIN}"
    ]


def test_emulate_serves_on_loopback_with_a_working_config() -> None:
    with serving(Which.BOTH, port=0, people=10) as served:
        text = ready_config(served.urls, (keycloak_seed(), atlassian_fixture()), demo=True)
        assert all(url.startswith("http://127.0.0.1:") for url in served.urls.values())
        import tomllib

        settings = Settings.from_values(tomllib.loads(text))
        demo = demo_settings()
        assert settings.keycloak.scope_groups == demo.keycloak.scope_groups
        assert settings.policy.domains == demo.policy.domains
        token = httpx.post(
            f"{settings.keycloak.base_url}/realms/acme/protocol/openid-connect/token",
            data={"grant_type": "client_credentials", "client_id": "offboard",
                  "client_secret": "demo-client-secret"},
        )  # fmt: skip
        assert token.status_code == 200
        assert settings.atlassian.scim_configured


def test_emulate_rejects_a_bad_seed(runner: CliRunner, tmp_path: object) -> None:
    from pathlib import Path

    seed = Path(str(tmp_path)) / "seed.json"
    seed.write_text("[1, 2]", encoding="utf-8")
    result = runner.invoke(app, ["emulate", "both", "--seed", str(seed), "--port", "0"])
    assert result.exit_code == 1
    assert "a seed is a JSON object" in result.output


@pytest.mark.parametrize("which", ["both", "atlassian"])
def test_emulate_on_a_taken_port_says_so_in_one_line(runner: CliRunner, which: str) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(app, ["emulate", which, "--port", str(port)])
    assert result.exit_code == ExitCode.ERROR, result.output
    assert f"port {port} is in use on 127.0.0.1: stop the other emulator or pass --port" in (
        result.output
    )
    assert "RuntimeError" not in result.output


@pytest.mark.parametrize(
    ("which", "port", "said"),
    [
        ("both", "70000", "65535"),
        ("keycloak", "-1", "Invalid value for '--port'"),  # the range's words vary by typer
        ("both", "65535", "1..65534"),
    ],
)
def test_emulate_ports_out_of_range_are_usage_errors(
    runner: CliRunner, which: str, port: str, said: str
) -> None:
    result = runner.invoke(app, ["emulate", which, "--port", port])
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "--port" in result.output
    assert said in result.output
