"""``store.retention``: a month by default, ``0s`` keeps everything, and the daemon that
``offboard run`` assembles prunes with it (on a store of ours)."""

from __future__ import annotations

from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from offboard.cli.run import assemble
from offboard.settings import Settings
from offboard.settings.runtime import StoreSettings


def test_the_default_retention_is_thirty_days() -> None:
    assert StoreSettings().retention == timedelta(days=30)


def test_zero_keeps_everything() -> None:
    assert StoreSettings(retention="0s").retention == timedelta(0)  # type: ignore[arg-type]


@pytest.mark.parametrize("short", ["1h", "23h"])
def test_a_retention_shorter_than_a_day_is_refused(short: str) -> None:
    with pytest.raises(ValidationError, match=r"retention: 0s .* or at least 1d"):
        StoreSettings(retention=short)  # type: ignore[arg-type]


def _settings(tmp_path: Path, retention: str) -> Settings:
    return Settings.from_values({
        "keycloak": {"base_url": "http://127.0.0.1:9", "realm": "r", "client_id": "c",
                     "client_secret": "s"},
        "atlassian": {"org_id": "o", "api_key": "k", "base_url": "http://127.0.0.1:9"},
        "store": {"path": str(tmp_path / "state.db"), "retention": retention},
    })  # fmt: skip


async def test_the_daemon_prunes_with_the_configured_retention(tmp_path: Path) -> None:
    async with AsyncExitStack() as stack:
        assembly = await assemble(_settings(tmp_path, "90d"), stack)
        pruning = assembly.daemon.pruning
        assert pruning is not None
        assert pruning.retention == timedelta(days=90)


async def test_a_retention_of_zero_prunes_nothing(tmp_path: Path) -> None:
    async with AsyncExitStack() as stack:
        assembly = await assemble(_settings(tmp_path, "0s"), stack)
        assert assembly.daemon.pruning is None
