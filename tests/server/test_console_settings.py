"""The ``[console]`` section: off until an issuer is set, then complete and safe or refused."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from offboard.settings.console import ConsoleSettings

ISSUER = "https://sso.example.com/realms/company"
SECRETS = {"client_secret": "console-client-secret", "session_secret": "s" * 32}


def test_without_an_issuer_the_console_is_off_and_needs_nothing() -> None:
    settings = ConsoleSettings()
    assert not settings.enabled
    assert settings.public_url == "http://127.0.0.1:8080"


def test_a_configured_login_reads_its_secrets_from_files(tmp_path: Path) -> None:
    (tmp_path / "client").write_text("from-a-file\n")
    (tmp_path / "session").write_text("x" * 64 + "\n")
    settings = ConsoleSettings.model_validate(
        {
            "issuer": ISSUER + "/",
            "client_secret_file": tmp_path / "client",
            "session_secret_file": tmp_path / "session",
            "public_url": "https://offboard.example.com",
        }
    )
    assert settings.issuer == ISSUER
    assert settings.client_secret is not None
    assert settings.client_secret.get_secret_value() == "from-a-file"
    assert settings.secure_cookies
    assert settings.callback_url == "https://offboard.example.com/auth/callback"
    assert "from-a-file" not in repr(settings)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"client_secret": None}, "client_secret: missing"),
        ({"session_secret": None}, "session_secret: missing or shorter than 32"),
        ({"session_secret": "short"}, "session_secret: missing or shorter than 32"),
        ({"issuer": "http://sso.example.com/realms/x"}, "use https://"),
        ({"issuer": "https://user:pw@sso.example.com/realms/x"}, "carries credentials"),
        ({"public_url": "http://offboard.example.com"}, "use https://"),
        ({"session_idle": "9h"}, "at most session_lifetime"),
        ({"session_idle": "0s"}, "more than zero"),
        ({"operator_role": "offboard-viewer"}, "must differ from viewer_role"),
    ],
)
def test_an_incomplete_or_unsafe_login_is_refused(changes: dict[str, object], problem: str) -> None:
    values: dict[str, object] = {"issuer": ISSUER, **SECRETS, **changes}
    with pytest.raises(ValidationError, match=problem) as refused:
        ConsoleSettings.model_validate(values)
    assert "console-client-secret" not in str(refused.value)


def test_plain_http_is_allowed_on_loopback_only() -> None:
    settings = ConsoleSettings.model_validate(
        {"issuer": "http://127.0.0.1:8180/realms/test", **SECRETS}
    )
    assert not settings.secure_cookies
    assert settings.session_idle == timedelta(minutes=30)
    assert settings.session_lifetime == timedelta(hours=8)
