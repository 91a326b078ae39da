"""Settings errors for durations, choices, dates and times say what is accepted, in
offboard's words (QA finding L6), and settings and options share one duration parser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from offboard.cli.journal import parse_since
from offboard.settings import ConfigError, load_settings, parse_duration


def _problems(config_file: Path, extra: str) -> str:
    config_file.write_text(config_file.read_text(encoding="utf-8") + extra, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file)
    text = str(caught.value)
    assert "Input should" not in text
    assert "Value error" not in text
    assert "identifier" not in text
    return text


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("-5m", "policy.grace_period: '-5m' is negative: a duration is zero or longer"),
        ("20y", "policy.grace_period: '20y' is not a duration: use a number and a unit"),
        ("1h3Om", "'1h3Om' is not a duration: use a number and a unit (s, m, h, d or w), e.g."),
        ("soon", "policy.grace_period: 'soon' is not a duration"),
        ("99999d", "policy.grace_period: '99999d' is longer than ten years: a typo?"),
        ("P99999D", "policy.grace_period: 'P99999D' is longer than ten years: a typo?"),
        ("PT-5M", "policy.grace_period: 'PT-5M' is not a duration"),
    ],
)
def test_a_bad_duration_says_what_is_accepted(config_file: Path, given: str, expected: str) -> None:
    assert expected in _problems(config_file, f'[policy]\ngrace_period = "{given}"\n')


@pytest.mark.parametrize(
    ("given", "seconds"),
    [("1h30m", 5400), ("1d 12h", 129600), ("1w2d", 777600), ("2h0m30s", 7230), ("P1DT2H", 93600)],
)
def test_compound_and_iso_durations_are_accepted_in_settings(
    config_file: Path, given: str, seconds: int
) -> None:
    config_file.write_text(
        config_file.read_text(encoding="utf-8") + f'[policy]\ngrace_period = "{given}"\n',
        encoding="utf-8",
    )
    assert load_settings(config_file).policy.grace_period == timedelta(seconds=seconds)


def test_the_options_share_the_settings_parser() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert parse_since("1h30m", now) == now - timedelta(minutes=90)
    assert parse_since("2026-11-30", now) == datetime(2026, 11, 30, tzinfo=UTC)
    assert parse_duration("1h30m") == timedelta(minutes=90)
    with pytest.raises(ValueError, match="negative"):
        parse_duration("-5m")
    with pytest.raises(ValueError, match="longer than ten years"):
        parse_duration("3000w 1d")


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("[logging]\nlevel = 'bogus'\n", "logging.level: 'bogus' is not accepted: use debug, info"),
        (
            "[policy.actions]\nmanaged = 'explode'\n",
            "policy.actions.managed: 'explode' is not accepted: use deactivate, suspend",
        ),
        (
            "[policy.actions]\nbogus = 'suspend'\n",
            "policy.actions: 'bogus' is not accepted: use managed, unmanaged",
        ),
        (
            "[notifications.email]\nkinds = ['bogus']\n",
            "notifications.email.kinds.0: 'bogus' is not accepted: use hold, guard-trip",
        ),
        ("[licences]\ndaily_at = '25:00'\n", "licences.daily_at: not a time of day: write HH:MM"),
        (
            "[notifications]\ndigest_at = 'eight'\n",
            'notifications.digest_at: not a time of day: write HH:MM (UTC), e.g. "06:30"',
        ),
    ],
)
def test_a_bad_choice_time_or_date_says_what_is_accepted(
    config_file: Path, extra: str, expected: str
) -> None:
    assert expected in _problems(config_file, extra)


def test_a_bad_date_says_how_to_write_one(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OFFBOARD_ATLASSIAN__API_KEY_EXPIRES_ON", "2027-13-01")
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file)
    assert "atlassian.api_key_expires_on: not a date: write YYYY-MM-DD" in str(caught.value)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("[policy]\ndomains = 'example.com'\n", 'policy.domains: not a list: write ["a", "b"]'),
        ("[daemon]\nlisten_host = 5\n", "daemon.listen_host: not text: write it in quotes"),
        ("[licences]\nprices = ['a']\n", "licences.prices: not a table: write { key = value"),
        ("[licences]\nrevoke_leaver_tokens = 'nope'\n", "revoke_leaver_tokens: not true or false"),
        ("[licences]\ninactive_days = 1.5\n", "licences.inactive_days: not a whole number"),
        (
            "[daemon]\nlisten_port = 99999\n",
            "daemon.listen_port: 99999 is too large: at most 65535",
        ),
        ("[daemon]\nmax_connections = 0\n", "daemon.max_connections: 0 is too small: at least 1"),
    ],
)
def test_a_value_of_the_wrong_type_says_how_to_write_it(
    config_file: Path, extra: str, expected: str
) -> None:
    # QA: these were pydantic's own words ("Input should be a valid list"), with no example.
    assert expected in _problems(config_file, extra)


def test_a_secret_of_the_wrong_type_is_not_echoed(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OFFBOARD_KEYCLOAK__CLIENT_SECRET")  # the file's value is the one read
    text = config_file.read_text(encoding="utf-8").replace(
        'client_id = "offboard"', 'client_id = "offboard"\nclient_secret = 918273645'
    )
    config_file.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file)
    assert "keycloak.client_secret: not text: write it in quotes" in str(caught.value)
    assert "918273645" not in str(caught.value)


def test_verify_tls_says_the_toml_word(config_file: Path) -> None:
    # The choice is Python's True; a TOML file spells it true, without quotes.
    text = config_file.read_text(encoding="utf-8").replace(
        'client_id = "offboard"', 'client_id = "offboard"\nverify_tls = "yes"'
    )
    config_file.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file)
    assert "keycloak.verify_tls: 'yes' is not accepted: use true" in str(caught.value)
