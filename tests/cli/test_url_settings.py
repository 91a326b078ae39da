"""A URL setting that cannot be a URL is refused at load, naming its key (QA: a trailing
blank in atlassian.base_url passed, and config check then failed with HTTP 404 and "regenerate
the directory key"; an unclosed IPv6 bracket was reported as "keycloak: Invalid IPv6 URL")."""

from __future__ import annotations

from pathlib import Path

import pytest

from offboard.settings import ConfigError, load_settings


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://sso.example.com ",
            "keycloak.base_url: 'https://sso.example.com ' has a blank in it (a space, tab or "
            "line break): remove it",
        ),
        ("https://sso.example .com", "keycloak.base_url: 'https://sso.example .com' has a blank"),
        ("http://[::1:8180", "keycloak.base_url: 'http://[::1:8180' is not an http(s) URL"),
    ],
)
def test_a_url_that_cannot_be_one_is_refused_under_its_key(
    config_file: Path, url: str, expected: str
) -> None:
    text = config_file.read_text(encoding="utf-8").replace("https://sso.example.com", url)
    config_file.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file)
    assert expected in str(caught.value)
