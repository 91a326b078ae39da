"""`offboard demo` end to end, and `offboard emulate`'s servers and printed configuration."""

from __future__ import annotations

import httpx
import pytest
from typer.testing import CliRunner

from offboard.cli.demo import atlassian_fixture, keycloak_seed
from offboard.cli.emulate import Which, ready_config, serving
from offboard.cli.main import app
from offboard.settings import Settings


def test_demo_runs_every_case_and_reads_back(runner: CliRunner) -> None:
    result = runner.invoke(app, ["demo", "--people", "20"])
    assert result.exit_code == 0, result.output
    output = result.output
    for expected in (
        "deactivate", "scim_deactivate", "suspend", "relink", "temporarily-locked",
        "protected-org-admin", "ownership-outside-domains", "ambiguous-identities",
        "ownership-never-linked", "every action done and read back",
    ):  # fmt: skip
        assert expected in output, expected
    assert "mismatch" not in output
    assert "demo-client-secret" not in output


def test_demo_ignores_the_environment(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OFFBOARD_KEYCLOAK__BASE_URL", "https://sso.example.com")
    result = runner.invoke(app, ["demo", "--people", "20"])
    assert result.exit_code == 0, result.output


def test_emulate_serves_on_loopback_with_a_working_config() -> None:
    with serving(Which.BOTH, port=0, people=10) as served:
        text = ready_config(served.urls, (keycloak_seed(), atlassian_fixture()))
        assert all(url.startswith("http://127.0.0.1:") for url in served.urls.values())
        import tomllib

        settings = Settings.from_values(tomllib.loads(text))
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
