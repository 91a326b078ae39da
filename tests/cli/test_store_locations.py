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
