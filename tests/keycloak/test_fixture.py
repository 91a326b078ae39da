"""Without a real server the keycloak tests skip, except in CI where they fail."""

from __future__ import annotations

import pytest

from tests.keycloak import distribution, fixture, server


def no_server(*_: object, **__: object) -> server.ServerInfo:
    raise server.KeycloakUnavailableError("no JDK 25/21/17 found in /usr/lib/jvm")


@pytest.fixture
def nothing_running(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OFFBOARD_TEST_KEYCLOAK_URL", raising=False)
    monkeypatch.setattr(server, "load_state", lambda: None)
    monkeypatch.setattr(server, "start_server", no_server)


@pytest.mark.usefixtures("nothing_running")
def test_skips_with_the_reason_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no JDK"):
        next(fixture.serve_keycloak())


@pytest.mark.usefixtures("nothing_running")
def test_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI needs the real Keycloak server"):
        next(fixture.serve_keycloak())


def test_environment_needs_the_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OFFBOARD_TEST_KEYCLOAK_URL", "http://127.0.0.1:1")
    monkeypatch.delenv("OFFBOARD_TEST_KEYCLOAK_CLIENT_SECRET", raising=False)
    with pytest.raises(pytest.fail.Exception, match="CLIENT_SECRET"):
        next(fixture.serve_keycloak())


def test_secrets_stay_out_of_reprs() -> None:
    info = server.ServerInfo(
        "http://127.0.0.1:1",
        "http://127.0.0.1:2",
        "r",
        "c",
        "client-secret-value",
        "l",
        "admin",
        "admin-password-value",
        1,
        "/nowhere",
    )
    assert "secret-value" not in repr(info)
    assert "password-value" not in repr(info)
    served = fixture._from_info(info)
    try:
        assert "secret-value" not in repr(served)
        assert "password-value" not in repr(served.admin)
    finally:
        served.admin.close()


def test_picks_the_newest_supported_jdk() -> None:
    try:
        home = distribution.find_java_home()
    except distribution.KeycloakUnavailableError as error:
        pytest.skip(str(error))
    majors = {distribution._java_major(path) for path in home.parent.iterdir()}
    newest = max(m for m in majors if m in distribution.SUPPORTED_JAVA)
    assert distribution._java_major(home) == newest
