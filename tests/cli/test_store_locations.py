"""Where the store is: a careless store.url or a relative store.path never loses state silently.

QA findings H1 (a URL missing its colon became a directory tree holding the password, and an
empty store) and H2 (a relative path followed the working directory, not the file).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from offboard.cli.exit_codes import ExitCode
from offboard.cli.main import app
from offboard.settings import ConfigError, load_settings
from offboard.store import StoreLocationError, open_store
from tests.cli.conftest import VALID_TOML

PASSWORD = "SuperSecretPW"


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize(
    ("url", "words"),
    [
        (f"postgresql//u:{PASSWORD}@127.0.0.1:1/db", "not a database URL"),
        (f"postgresql:/u:{PASSWORD}@127.0.0.1:1/db", "not a database URL"),
        (f"u:{PASSWORD}@127.0.0.1:1/db", "not a database URL"),
        (f"mysql://u:{PASSWORD}@127.0.0.1/db", "'mysql' backend is not supported"),
        (f"oracle+cx://u:{PASSWORD}@127.0.0.1/db", "'oracle+cx' backend is not supported"),
    ],
)
def test_a_store_url_that_is_not_a_supported_database_url_is_a_config_error(
    runner: CliRunner, config_file: Path, tmp_path: Path, url: str, words: str
) -> None:
    config_file.write_text(
        config_file.read_text(encoding="utf-8") + f'\n[store]\nurl = "{url}"\n', encoding="utf-8"
    )
    before = _tree(tmp_path)
    for command in (["plan"], ["apply", "--yes"], ["config", "show"], ["journal", "list"]):
        result = runner.invoke(app, ["-c", str(config_file), *command])
        assert result.exit_code == ExitCode.CONFIG, (command, result.output)
        assert "store.url:" in result.output, result.output
        assert words in result.output, result.output
        assert PASSWORD not in result.output
    assert _tree(tmp_path) == before  # no directory named after the password, no new store


def test_supported_store_urls_are_accepted(config_file: Path) -> None:
    for url in ("postgresql://u@h/db", "postgresql+psycopg://u@h/db", "sqlite:////tmp/x.db"):
        config_file.write_text(
            config_file.read_text(encoding="utf-8").split("[store]")[0]
            + f'[store]\nurl = "{url}"\n',
            encoding="utf-8",
        )
        assert load_settings(config_file).store.location() == url


def test_store_url_from_the_environment_is_checked_too(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OFFBOARD_STORE__URL", f"mysql://u:{PASSWORD}@h/db")
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file)
    assert "store.url: the 'mysql' backend is not supported" in str(caught.value)
    assert PASSWORD not in str(caught.value)


def test_the_store_option_shares_the_same_check(tmp_path: Path) -> None:
    """``--store`` and ``store.url`` refuse the same URLs (one check): no driver import error
    (exit 70), no file."""
    with pytest.raises(StoreLocationError) as caught:
        open_store(f"mysql://u:{PASSWORD}@127.0.0.1/db")
    assert "'mysql' backend is not supported" in str(caught.value)
    assert PASSWORD not in str(caught.value)
    assert not os.listdir(tmp_path)


def test_relative_paths_in_the_file_are_beside_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """H2: run from another folder, the same file finds the same store, secrets and CA."""
    folder = tmp_path / "etc"
    (folder / "secrets").mkdir(parents=True)
    (folder / "secrets" / "kc").write_text("kc-from-file\n", encoding="utf-8")
    (folder / "secrets" / "atl").write_text("atl-from-file\n", encoding="utf-8")
    config = folder / "offboard.toml"
    config.write_text(
        VALID_TOML.replace(
            'client_id = "offboard"',
            'client_id = "offboard"\nclient_secret_file = "secrets/kc"\nca_bundle = "ca.pem"',
        )
        + 'api_key_file = "./secrets/atl"\n'
        + '\n[store]\npath = "offboard-emulated.sqlite3"\n'
        + '\n[daemon]\ntls_cert_file = "/abs/cert.pem"\ntls_key_file = "~/key.pem"\n',
        encoding="utf-8",
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    settings = load_settings(config)
    assert settings.store.path == folder / "offboard-emulated.sqlite3"
    assert settings.keycloak.ca_bundle == folder / "ca.pem"
    assert settings.keycloak.client_secret_file == folder / "secrets" / "kc"
    assert settings.atlassian.api_key is not None
    assert settings.atlassian.api_key.get_secret_value() == "atl-from-file"
    assert settings.daemon.tls_cert_file == Path("/abs/cert.pem")
    assert settings.daemon.tls_key_file == Path.home() / "key.pem"


def test_relative_paths_from_the_environment_stay_relative_to_the_working_directory(
    config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    (elsewhere / "key").write_text("atl-from-cwd\n", encoding="utf-8")
    monkeypatch.delenv("OFFBOARD_ATLASSIAN__API_KEY")
    monkeypatch.setenv("OFFBOARD_ATLASSIAN__API_KEY_FILE", "key")
    monkeypatch.setenv("OFFBOARD_STORE__PATH", "here.sqlite3")
    settings = load_settings(config_file)
    assert settings.atlassian.api_key is not None
    assert settings.atlassian.api_key.get_secret_value() == "atl-from-cwd"
    assert settings.store.path == Path("here.sqlite3")


@pytest.fixture
def relative_store(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The config file with a relative ``store.path``, run from another folder."""
    config_file.write_text(
        config_file.read_text(encoding="utf-8") + '\n[store]\npath = "s.sqlite3"\n',
        encoding="utf-8",
    )
    monkeypatch.chdir("/")
    return config_file


def test_config_show_prints_the_resolved_store_path(
    runner: CliRunner, relative_store: Path, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["-c", str(relative_store), "config", "show"])
    assert result.exit_code == 0, result.output
    assert f'path = "{tmp_path / "s.sqlite3"}"' in result.output


def test_a_command_that_creates_a_store_file_says_where_once(
    runner: CliRunner, relative_store: Path, tmp_path: Path
) -> None:
    first = runner.invoke(app, ["-c", str(relative_store), "store", "migrate"])
    assert first.exit_code == 0, first.output
    assert f"created a new store at {tmp_path / 's.sqlite3'}" in first.output
    again = runner.invoke(app, ["-c", str(relative_store), "store", "migrate"])
    assert again.exit_code == 0, again.output
    assert "created a new store" not in again.output


def test_opening_the_configured_store_announces_a_new_file_only(
    config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from offboard.cli.wiring import open_configured_store

    settings = load_settings(config_file)
    open_configured_store(settings).close()
    default = tmp_path / "state" / "offboard" / "offboard.sqlite3"
    assert f"created a new store at {default}" in capsys.readouterr().err
    open_configured_store(settings).close()
    open_configured_store(settings, read_only=True).close()
    assert "created" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///state/s.db", "sqlite:///{folder}/state/s.db"),
        ("sqlite+pysqlite:///s.db", "sqlite+pysqlite:///{folder}/s.db"),
        ("sqlite:////abs/s.db", "sqlite:////abs/s.db"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
    ],
)
def test_a_relative_sqlite_store_url_is_beside_the_file_too(
    config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, expected: str
) -> None:
    config_file.write_text(
        config_file.read_text(encoding="utf-8") + f'\n[store]\nurl = "{url}"\n',
        encoding="utf-8",
    )
    monkeypatch.chdir("/")
    location = load_settings(config_file).store.location()
    assert location == expected.format(folder=tmp_path)
